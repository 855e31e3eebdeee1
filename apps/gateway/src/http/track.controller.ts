import {
  Body,
  Controller,
  Delete,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Req,
  Res,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  fromAddDevice,
  fromDeleteDevice,
  fromIdentify,
  fromMerge,
  fromPersonAction,
  fromTrack,
  parseBatchRequest,
  UlidFactory,
  validateOperation,
  type Operation,
  type Parsed,
  type ValidateOptions,
} from '@cio-pipeline/schemas';
import { WorkspaceAuthService } from '../auth/workspace-auth.service';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { IngestService } from '../ingest/ingest.service';
import { partialFailureBody, TrackApiError } from './track-api-error';

type Request = FastifyRequest & { rawBody?: Buffer };

/**
 * Customer.io's Track API, v1 and v2, at Customer.io's paths. Every call is
 * authenticated, checked against Customer.io's limits, converted to v2
 * operations and answered only after Kafka acknowledged them.
 */
@Controller('api')
export class TrackController {
  private readonly ids = new UlidFactory();
  private readonly options: ValidateOptions;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly auth: WorkspaceAuthService,
    private readonly ingest: IngestService,
  ) {
    this.options = { limits: config.limits, assignEventId: () => this.ids.next() };
  }

  @Put('v1/customers/:identifier')
  @HttpCode(200)
  identify(
    @Req() request: Request,
    @Param('identifier') identifier: string,
    @Body() body: unknown,
  ) {
    return this.acceptOne(request, fromIdentify(identifier, body, this.options));
  }

  @Delete('v1/customers/:identifier')
  @HttpCode(200)
  deletePerson(@Req() request: Request, @Param('identifier') identifier: string) {
    return this.acceptOne(request, fromPersonAction(identifier, 'delete', this.options));
  }

  @Post('v1/customers/:identifier/events')
  @HttpCode(200)
  track(@Req() request: Request, @Param('identifier') identifier: string, @Body() body: unknown) {
    return this.acceptOne(request, fromTrack(identifier, body, this.options));
  }

  @Post('v1/events')
  @HttpCode(200)
  trackAnonymous(@Req() request: Request, @Body() body: unknown) {
    return this.acceptOne(request, fromTrack(undefined, body, this.options));
  }

  @Put('v1/customers/:identifier/devices')
  @HttpCode(200)
  addDevice(
    @Req() request: Request,
    @Param('identifier') identifier: string,
    @Body() body: unknown,
  ) {
    return this.acceptOne(request, fromAddDevice(identifier, body, this.options));
  }

  @Delete('v1/customers/:identifier/devices/:deviceId')
  @HttpCode(200)
  deleteDevice(
    @Req() request: Request,
    @Param('identifier') identifier: string,
    @Param('deviceId') deviceId: string,
  ) {
    return this.acceptOne(request, fromDeleteDevice(identifier, deviceId, this.options));
  }

  @Post('v1/customers/:identifier/suppress')
  @HttpCode(200)
  suppress(@Req() request: Request, @Param('identifier') identifier: string) {
    return this.acceptOne(request, fromPersonAction(identifier, 'suppress', this.options));
  }

  @Post('v1/customers/:identifier/unsuppress')
  @HttpCode(200)
  unsuppress(@Req() request: Request, @Param('identifier') identifier: string) {
    return this.acceptOne(request, fromPersonAction(identifier, 'unsuppress', this.options));
  }

  @Post('v1/merge_customers')
  @HttpCode(200)
  merge(@Req() request: Request, @Body() body: unknown) {
    return this.acceptOne(request, fromMerge(body, this.options));
  }

  @Post('v2/entity')
  @HttpCode(200)
  entity(@Req() request: Request, @Body() body: unknown) {
    return this.acceptOne(request, validateOperation(body, this.options));
  }

  @Post('v2/batch')
  async batch(
    @Req() request: Request,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() body: unknown,
  ): Promise<object> {
    const workspace = this.auth.authenticate(request.headers.authorization);
    const bodyBytes = request.rawBody?.length ?? 0;
    const parsed = parseBatchRequest(body, bodyBytes, this.options);
    if (!parsed.ok) {
      throw TrackApiError.invalid(parsed.error);
    }
    const { accepted, rejected } = parsed.value;
    const operations = accepted.map((item) => item.operation);
    if (operations.length > 0) {
      await this.ingest.accept(workspace.siteId, operations, requestIdOf(request));
    }
    if (rejected.length > 0) {
      void reply.status(207);
      return partialFailureBody(rejected);
    }
    void reply.status(200);
    return {};
  }

  private async acceptOne(request: Request, parsed: Parsed<Operation>): Promise<object> {
    const workspace = this.auth.authenticate(request.headers.authorization);
    if (!parsed.ok) {
      throw TrackApiError.invalid(parsed.error);
    }
    await this.ingest.accept(workspace.siteId, [parsed.value], requestIdOf(request));
    return {};
  }
}

function requestIdOf(request: FastifyRequest): string {
  const header = request.headers['x-request-id'];
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && /^[\w.:-]{1,128}$/.test(given) ? given : request.id;
}
