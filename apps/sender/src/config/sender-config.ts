import { EnvReader, readWorkspaces, type Region, type Workspace } from '@cio-pipeline/runtime';
import { readKafkaSettings, type KafkaSettings } from '@cio-pipeline/kafka';
import { DEFAULT_LIMITER_OPTIONS, type LimiterOptions } from '@cio-pipeline/limiter';

export const SENDER_CONFIG = Symbol('SENDER_CONFIG');

export interface RetrySettings {
  /** How long 5xx answers, timeouts and network errors are retried before dead-lettering. */
  budgetMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Wait after a 429 without Retry-After. */
  throttleBackoffMs: number;
  /** Wait before trying a workspace again after Customer.io rejected its credentials. */
  unauthorizedPauseMs: number;
}

export interface SenderConfig {
  host: string;
  port: number;
  groupId: string;
  workspaces: Workspace[];
  /** Track API base URL per region, without the `/api/...` path. */
  trackUrls: Record<Region, string>;
  requestTimeoutMs: number;
  /** Batches of one workspace in delivery at once within one partition; batches that share a person never are. */
  maxInFlightPerWorkspace: number;
  partitionsConsumedConcurrently: number;
  /** Consumers in the group in this process. Each fetches and delivers its partitions on its own. */
  consumers: number;
  /** Maximum time in ms that one fetched batch of a partition keeps starting deliveries. */
  roundMs: number;
  retry: RetrySettings;
  limiter: Omit<LimiterOptions, 'limit'>;
  kafka: KafkaSettings;
}

export function readSenderConfig(environment: NodeJS.ProcessEnv = process.env): SenderConfig {
  const env = new EnvReader(environment);
  const kafka = readKafkaSettings(env, 'cio-sender');
  const config: SenderConfig = {
    host: env.string('SENDER_HOST', '127.0.0.1'),
    port: env.number('SENDER_PORT', 3002, { min: 0, max: 65_535 }),
    groupId: env.string('SENDER_GROUP_ID', 'cio-sender'),
    workspaces: readWorkspaces(env, 'site-demo:key-demo:us'),
    trackUrls: {
      us: readUrl(env, 'CIO_US_URL', 'https://track.customer.io'),
      eu: readUrl(env, 'CIO_EU_URL', 'https://track-eu.customer.io'),
    },
    requestTimeoutMs: env.number('SENDER_REQUEST_TIMEOUT_MS', 10_000, { min: 100 }),
    maxInFlightPerWorkspace: env.number('SENDER_MAX_IN_FLIGHT_PER_WORKSPACE', 16, {
      min: 1,
      max: 1000,
    }),
    partitionsConsumedConcurrently: env.number('SENDER_PARTITIONS_CONCURRENTLY', 6, { min: 1 }),
    // One consumer per partition of the batches topic, so no workspace waits for another's fetch.
    consumers: env.number('SENDER_CONSUMERS', Math.min(kafka.topics.batches.partitions, 64), {
      min: 1,
      max: 64,
    }),
    roundMs: env.number('SENDER_ROUND_MS', 1000, { min: 10 }),
    retry: {
      budgetMs: env.number('SENDER_RETRY_BUDGET_MS', 5 * 60_000, { min: 0 }),
      initialBackoffMs: env.number('SENDER_INITIAL_BACKOFF_MS', 200, { min: 1 }),
      maxBackoffMs: env.number('SENDER_MAX_BACKOFF_MS', 30_000, { min: 1 }),
      throttleBackoffMs: env.number('SENDER_THROTTLE_BACKOFF_MS', 1000, { min: 1 }),
      unauthorizedPauseMs: env.number('SENDER_UNAUTHORIZED_PAUSE_MS', 30_000, { min: 100 }),
    },
    limiter: {
      ...DEFAULT_LIMITER_OPTIONS,
      headroom: env.number('SENDER_RATE_HEADROOM', DEFAULT_LIMITER_OPTIONS.headroom, {
        min: 0.1,
        max: 1,
        integer: false,
      }),
      transitAllowanceMs: env.number(
        'SENDER_TRANSIT_ALLOWANCE_MS',
        DEFAULT_LIMITER_OPTIONS.transitAllowanceMs,
        { min: 0, max: 10_000 },
      ),
    },
    kafka,
  };
  env.done();
  return config;
}

function readUrl(env: EnvReader, name: string, fallback: string): string {
  const value = env.string(name, fallback);
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      env.report(`${name}=${JSON.stringify(value)} is invalid: expected an http or https URL`);
    }
    return url.origin;
  } catch {
    env.report(`${name}=${JSON.stringify(value)} is invalid: expected a URL such as ${fallback}`);
    return fallback;
  }
}
