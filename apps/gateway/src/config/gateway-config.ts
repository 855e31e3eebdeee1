import { DEFAULT_TRACK_LIMITS, type TrackLimits } from '@cio-pipeline/schemas';
import { EnvReader, readWorkspaces, type Workspace } from '@cio-pipeline/runtime';
import { readKafkaSettings, type KafkaSettings, type LingerOptions } from '@cio-pipeline/kafka';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export interface GatewayConfig {
  host: string;
  port: number;
  /** gRPC listen address, `host:port`; undefined switches gRPC off. */
  grpcUrl: string | undefined;
  /** PEM files; both set means the gateway serves HTTPS. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Largest request body accepted, in bytes; larger bodies get 413. */
  bodyLimitBytes: number;
  /** Milliseconds a client has to send a whole request; a slower one gets 408 and its connection closed. */
  requestTimeoutMs: number;
  /** Seconds a 503 tells the caller to wait before retrying, in its Retry-After header. */
  retryAfterSeconds: number;
  workspaces: Workspace[];
  limits: TrackLimits;
  kafka: KafkaSettings;
  producer: LingerOptions;
}

/** Reads the gateway's settings from the environment; throws a ConfigError naming each bad value. */
export function readGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const env = new EnvReader(environment);
  const certFile = env.optionalString('GATEWAY_TLS_CERT_FILE');
  const keyFile = env.optionalString('GATEWAY_TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    env.report('GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE must be set together for HTTPS');
  }
  const limits = readTrackLimits(env);
  const config: GatewayConfig = {
    host: env.string('GATEWAY_HOST', '127.0.0.1'),
    port: env.number('GATEWAY_PORT', 3000, { min: 0, max: 65_535 }),
    grpcUrl: readGrpcUrl(env),
    tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : undefined,
    bodyLimitBytes: env.number('GATEWAY_BODY_LIMIT_BYTES', 1024 * 1024, { min: 1024 }),
    requestTimeoutMs: env.number('GATEWAY_REQUEST_TIMEOUT_MS', 30_000, { min: 1000 }),
    retryAfterSeconds: env.number('GATEWAY_RETRY_AFTER_SECONDS', 2, { min: 1, max: 3600 }),
    workspaces: readWorkspaces(env, 'site-demo:key-demo:us'),
    limits,
    kafka: readKafkaSettings(env, 'cio-gateway'),
    producer: {
      // 0: what arrives while a Kafka request is in flight already forms the next one.
      lingerMs: env.number('GATEWAY_LINGER_MS', 0, { min: 0, max: 1000 }),
      maxRequestBytes: env.number('GATEWAY_KAFKA_REQUEST_BYTES', 900 * 1024, { min: 1024 }),
      maxPendingBytes: env.number('GATEWAY_MAX_PENDING_BYTES', 64 * 1024 * 1024, { min: 1024 }),
      sendTimeoutMs: env.number('GATEWAY_KAFKA_TIMEOUT_MS', 10_000, { min: 100 }),
    },
  };
  env.done();
  return config;
}

function readGrpcUrl(env: EnvReader): string | undefined {
  const port = env.number('GATEWAY_GRPC_PORT', 50051, { min: -1, max: 65_535 });
  const host = env.string('GATEWAY_GRPC_HOST', env.string('GATEWAY_HOST', '127.0.0.1'));
  return port < 0 ? undefined : `${host}:${port}`;
}

/** Each Customer.io limit can be changed with a `CIO_` setting should Customer.io change it. */
export function readTrackLimits(env: EnvReader): TrackLimits {
  const at = (name: string, fallback: number) => env.number(name, fallback, { min: 1 });
  return {
    maxOperationBytes: at('CIO_MAX_OPERATION_BYTES', DEFAULT_TRACK_LIMITS.maxOperationBytes),
    maxBatchBytes: at('CIO_MAX_BATCH_BYTES', DEFAULT_TRACK_LIMITS.maxBatchBytes),
    maxAttributeValueBytes: at(
      'CIO_MAX_ATTRIBUTE_VALUE_BYTES',
      DEFAULT_TRACK_LIMITS.maxAttributeValueBytes,
    ),
    maxAttributeNameBytes: at(
      'CIO_MAX_ATTRIBUTE_NAME_BYTES',
      DEFAULT_TRACK_LIMITS.maxAttributeNameBytes,
    ),
    maxAttributes: at('CIO_MAX_ATTRIBUTES', DEFAULT_TRACK_LIMITS.maxAttributes),
    maxIdentifierBytes: at('CIO_MAX_IDENTIFIER_BYTES', DEFAULT_TRACK_LIMITS.maxIdentifierBytes),
    maxEventNameBytes: at('CIO_MAX_EVENT_NAME_BYTES', DEFAULT_TRACK_LIMITS.maxEventNameBytes),
    maxEventDataBytes: at('CIO_MAX_EVENT_DATA_BYTES', DEFAULT_TRACK_LIMITS.maxEventDataBytes),
  };
}
