import { Controller, Logger } from '@nestjs/common';
import { GrpcMethod, GrpcStreamMethod, RpcException } from '@nestjs/microservices';
import { Metadata, status } from '@grpc/grpc-js';
import { concatMap, from, type Observable } from 'rxjs';
import {
  fromAddDevice,
  fromDeleteDevice,
  fromIdentify,
  fromMerge,
  fromPersonAction,
  fromTrack,
  TRACK_SERVICE,
  UlidFactory,
  checkOperation,
  type BatchItemError,
} from '@cio-pipeline/schemas';
import { TrackApiService, type ParseCall } from '../ingest/track-api.service';
import { TrackApiError } from '../http/track-api-error';
import { structToJson, type ProtoStruct } from './struct';

interface IdentifierRequest {
  identifier?: string;
}
interface IdentifyRequest extends IdentifierRequest {
  attributes?: ProtoStruct;
}
interface TrackRequest extends IdentifierRequest {
  event?: ProtoStruct;
}
interface AddDeviceRequest extends IdentifierRequest {
  device?: ProtoStruct;
}
interface DeleteDeviceRequest extends IdentifierRequest {
  device_id?: string;
}
interface MergeRequest {
  primary?: ProtoStruct;
  secondary?: ProtoStruct;
}
interface BatchRequest {
  batch?: ProtoStruct[];
  request_id?: string;
}
interface BatchResponse {
  request_id: string;
  accepted: number;
  errors: BatchItemError[];
}

/**
 * The Track API over gRPC (libs/schemas/proto/track.proto). It shares
 * authentication, validation and the Kafka write with the HTTP controller
 * through TrackApiService; only the status codes differ.
 */
@Controller()
export class TrackGrpcController {
  private readonly logger = new Logger(TrackGrpcController.name);
  private readonly ids = new UlidFactory();

  constructor(private readonly track: TrackApiService) {}

  @GrpcMethod(TRACK_SERVICE, 'Identify')
  identify(request: IdentifyRequest, metadata: Metadata) {
    return this.accept(metadata, (o) =>
      fromIdentify(identifierOf(request), structToJson(request.attributes) ?? {}, o),
    );
  }

  @GrpcMethod(TRACK_SERVICE, 'DeletePerson')
  deletePerson(request: IdentifierRequest, metadata: Metadata) {
    return this.accept(metadata, (o) => fromPersonAction(identifierOf(request), 'delete', o));
  }

  @GrpcMethod(TRACK_SERVICE, 'Track')
  trackEvent(request: TrackRequest, metadata: Metadata) {
    return this.accept(metadata, (o) =>
      fromTrack(identifierOf(request), structToJson(request.event), o),
    );
  }

  @GrpcMethod(TRACK_SERVICE, 'TrackAnonymous')
  trackAnonymous(request: TrackRequest, metadata: Metadata) {
    return this.accept(metadata, (o) => fromTrack(undefined, structToJson(request.event), o));
  }

  @GrpcMethod(TRACK_SERVICE, 'AddDevice')
  addDevice(request: AddDeviceRequest, metadata: Metadata) {
    return this.accept(metadata, (o) =>
      fromAddDevice(identifierOf(request), { device: structToJson(request.device) }, o),
    );
  }

  @GrpcMethod(TRACK_SERVICE, 'DeleteDevice')
  deleteDevice(request: DeleteDeviceRequest, metadata: Metadata) {
    const deviceId = request.device_id ?? '';
    return this.accept(metadata, (o) => fromDeleteDevice(identifierOf(request), deviceId, o));
  }

  @GrpcMethod(TRACK_SERVICE, 'Suppress')
  suppress(request: IdentifierRequest, metadata: Metadata) {
    return this.accept(metadata, (o) => fromPersonAction(identifierOf(request), 'suppress', o));
  }

  @GrpcMethod(TRACK_SERVICE, 'Unsuppress')
  unsuppress(request: IdentifierRequest, metadata: Metadata) {
    return this.accept(metadata, (o) => fromPersonAction(identifierOf(request), 'unsuppress', o));
  }

  @GrpcMethod(TRACK_SERVICE, 'Merge')
  merge(request: MergeRequest, metadata: Metadata) {
    return this.accept(metadata, (o) =>
      fromMerge(
        { primary: structToJson(request.primary), secondary: structToJson(request.secondary) },
        o,
      ),
    );
  }

  @GrpcMethod(TRACK_SERVICE, 'Entity')
  entity(request: ProtoStruct, metadata: Metadata) {
    return this.accept(metadata, (o) => checkOperation(structToJson(request), o));
  }

  @GrpcMethod(TRACK_SERVICE, 'Batch')
  batch(request: BatchRequest, metadata: Metadata): Promise<BatchResponse> {
    return this.acceptBatch(request, metadata);
  }

  @GrpcStreamMethod(TRACK_SERVICE, 'StreamBatches')
  streamBatches(requests: Observable<BatchRequest>, metadata: Metadata): Observable<BatchResponse> {
    // One request at a time, so answers come back in request order.
    return requests.pipe(concatMap((request) => from(this.acceptBatch(request, metadata))));
  }

  private async accept(metadata: Metadata, parse: ParseCall): Promise<object> {
    try {
      await this.track.acceptOne(authorizationOf(metadata), parse, this.ids.next());
      return {};
    } catch (error) {
      throw this.toRpcException(error);
    }
  }

  private async acceptBatch(request: BatchRequest, metadata: Metadata): Promise<BatchResponse> {
    // A caller's request id travels in Kafka headers and logs: only a short plain one is kept.
    const given = request.request_id ?? '';
    const requestId = /^[\w.:-]{1,128}$/.test(given) ? given : this.ids.next();
    try {
      const body = { batch: (request.batch ?? []).map((item) => structToJson(item)) };
      const bodyBytes = Buffer.byteLength(JSON.stringify(body), 'utf8');
      const result = await this.track.acceptBatch(
        authorizationOf(metadata),
        body,
        bodyBytes,
        requestId,
      );
      return { request_id: requestId, accepted: result.accepted, errors: result.errors };
    } catch (error) {
      throw this.toRpcException(error);
    }
  }

  private toRpcException(error: unknown): RpcException {
    if (!(error instanceof TrackApiError)) {
      this.logger.error({
        message: 'gRPC call failed with an unexpected error',
        error: (error as Error).stack,
      });
      return new RpcException({ code: status.INTERNAL, message: 'internal error' });
    }
    const message = (error.getResponse() as { meta: { error: string } }).meta.error;
    const code = grpcCodeOf(error.getStatus());
    const retryAfter = error.headers['retry-after'];
    if (retryAfter === undefined) {
      return new RpcException({ code, message });
    }
    const trailers = new Metadata();
    trailers.set('retry-after', retryAfter);
    return new RpcException({ code, message, metadata: trailers });
  }
}

function grpcCodeOf(httpStatus: number): status {
  switch (httpStatus) {
    case 400:
      return status.INVALID_ARGUMENT;
    case 401:
      return status.UNAUTHENTICATED;
    case 413:
      return status.RESOURCE_EXHAUSTED;
    case 503:
      return status.UNAVAILABLE;
    default:
      return status.INTERNAL;
  }
}

function authorizationOf(metadata: Metadata): string | undefined {
  const [value] = metadata.get('authorization');
  return typeof value === 'string' ? value : undefined;
}

function identifierOf(request: IdentifierRequest): string {
  return request.identifier ?? '';
}
