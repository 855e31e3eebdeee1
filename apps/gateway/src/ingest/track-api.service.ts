import { Inject, Injectable } from '@nestjs/common';
import {
  parseBatchRequest,
  UlidFactory,
  type BatchItemError,
  type CheckedOperation,
  type Operation,
  type Parsed,
  type ValidateOptions,
} from '@cio-pipeline/schemas';
import { WorkspaceAuthService } from '../auth/workspace-auth.service';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { TrackApiError } from '../http/track-api-error';
import { IngestService } from './ingest.service';
import { countOperations, gatewayMetrics } from '../metrics/gateway-metrics';
import type { Workspace } from '@cio-pipeline/runtime';

function countRejection(workspace: string, reason: string): void {
  gatewayMetrics.rejections.inc({ reason });
  countOperations(workspace, 'rejected', 1);
}

/** Converts a call's body into operations with the shared validation options. */
export type ParseCall = (options: ValidateOptions) => Parsed<CheckedOperation>;

/**
 * The Track API's steps shared by HTTP and gRPC: authenticate, validate
 * against Customer.io's limits, write to Kafka. Failures are TrackApiErrors,
 * which each transport maps to its own status codes.
 */
@Injectable()
export class TrackApiService {
  private readonly ids = new UlidFactory();
  private readonly options: ValidateOptions;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly auth: WorkspaceAuthService,
    private readonly ingest: IngestService,
  ) {
    this.options = { limits: config.limits, assignEventId: () => this.ids.next() };
  }

  async acceptOne(authorization: string | undefined, parse: ParseCall, requestId: string) {
    const workspace = this.authenticate(authorization);
    const parsed = parse(this.options);
    if (!parsed.ok) {
      countRejection(workspace.siteId, parsed.error.reason);
      throw TrackApiError.invalid(parsed.error);
    }
    await this.write(workspace.siteId, [parsed.value.operation], requestId, [
      parsed.value.serialized,
    ]);
  }

  /** Accepts a batch's valid operations and returns the errors of the others. */
  async acceptBatch(
    authorization: string | undefined,
    body: unknown,
    bodyBytes: number,
    requestId: string,
  ): Promise<{ accepted: number; errors: BatchItemError[] }> {
    const workspace = this.authenticate(authorization);
    const parsed = parseBatchRequest(body, bodyBytes, this.options);
    if (!parsed.ok) {
      countRejection(workspace.siteId, parsed.error.reason);
      throw TrackApiError.invalid(parsed.error);
    }
    for (const item of parsed.value.rejected) {
      countRejection(workspace.siteId, item.reason);
    }
    const operations = parsed.value.accepted.map((item) => item.operation);
    const serialized = parsed.value.accepted.map((item) => item.serialized);
    if (operations.length > 0) {
      await this.write(workspace.siteId, operations, requestId, serialized);
    }
    return { accepted: operations.length, errors: parsed.value.rejected };
  }

  private authenticate(authorization: string | undefined): Workspace {
    try {
      return this.auth.authenticate(authorization);
    } catch (error) {
      gatewayMetrics.rejections.inc({ reason: 'unauthorized' });
      throw error;
    }
  }

  private async write(
    workspace: string,
    operations: Operation[],
    requestId: string,
    serialized: string[] = [],
  ) {
    const stopTimer = gatewayMetrics.produceLatency.startTimer();
    try {
      await this.ingest.accept(workspace, operations, requestId, serialized);
    } catch (error) {
      gatewayMetrics.rejections.inc({ reason: 'unavailable' }, operations.length);
      countOperations(workspace, 'unavailable', operations.length);
      throw error;
    } finally {
      stopTimer();
    }
    countOperations(workspace, 'accepted', operations.length);
  }
}
