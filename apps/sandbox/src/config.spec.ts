import { ConfigError, DEFAULT_LIMITS, resolveConfig } from './config';
import { loadConfigFromEnv } from './env';

function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig', () => {
  it('fills in defaults', () => {
    const config = resolveConfig({});
    expect(config.port).toBe(4010);
    expect(config.host).toBe('127.0.0.1');
    expect(config.region).toBe('us');
    expect(config.workspaces).toEqual([{ siteId: 'site-demo', apiKey: 'key-demo', region: 'us' }]);
    expect(config.rateLimitPerSecond).toBe(0);
    expect(config.retryAfterSeconds).toBeNull();
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config.retentionOperations).toBe(2_000_000);
    expect(config.hangMaxMs).toBe(600_000);
  });

  it('merges partial limits and faults', () => {
    const config = resolveConfig({ limits: { maxAttributes: 5 }, faults: { errorRate: 0.5 } });
    expect(config.limits.maxAttributes).toBe(5);
    expect(config.limits.maxBatchBytes).toBe(512_000);
    expect(config.faults.errorRate).toBe(0.5);
    expect(config.faults.latencyMs).toBe(0);
  });

  it('names each invalid field', () => {
    const error = configErrorOf(() =>
      resolveConfig({
        port: 70_000,
        region: 'mars' as 'us',
        limits: { maxBatchBytes: 0 },
        faults: { errorRate: 2 },
      }),
    );
    const text = error.problems.join('\n');
    expect(text).toContain('port: invalid value 70000, expected an integer from 0 to 65535');
    expect(text).toContain('region: invalid value "mars", expected us or eu');
    expect(text).toContain('limits.maxBatchBytes: invalid value 0');
    expect(text).toContain('faults.errorRate: invalid value 2, expected a number from 0 to 1');
  });

  it('rejects shares that sum above 1', () => {
    const error = configErrorOf(() =>
      resolveConfig({ faults: { errorRate: 0.5, throttleRate: 0.4, hangRate: 0.2 } }),
    );
    expect(error.problems.join('\n')).toContain('expected a sum of at most 1');
  });

  it('rejects duplicate site ids', () => {
    const error = configErrorOf(() =>
      resolveConfig({
        workspaces: [
          { siteId: 'a', apiKey: 'k1', region: 'us' },
          { siteId: 'a', apiKey: 'k2', region: 'us' },
        ],
      }),
    );
    expect(error.problems.join('\n')).toContain('workspaces[1].siteId');
  });
});

describe('loadConfigFromEnv', () => {
  it('uses defaults for an empty environment', () => {
    const config = loadConfigFromEnv({});
    expect(config.port).toBe(4010);
    expect(config.logLevel).toBe('info');
    expect(config.workspaces).toEqual([{ siteId: 'site-demo', apiKey: 'key-demo', region: 'us' }]);
    expect(Number.isSafeInteger(config.seed)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadConfigFromEnv({
      SANDBOX_PORT: '0',
      SANDBOX_HOST: '::1',
      SANDBOX_REGION: 'eu',
      SANDBOX_US_URL: 'http://127.0.0.1:5000',
      SANDBOX_EU_URL: 'http://127.0.0.1:5001/',
      SANDBOX_WORKSPACES: 'a:ka, b:kb:eu, c:kc:us:25, d:kd::7',
      SANDBOX_RATE_LIMIT: '100',
      SANDBOX_RETRY_AFTER_SECONDS: '2',
      SANDBOX_LATENCY_MS: '5',
      SANDBOX_LATENCY_JITTER_MS: '3',
      SANDBOX_ERROR_RATE: '0.1',
      SANDBOX_THROTTLE_RATE: '0.2',
      SANDBOX_HANG_RATE: '0.05',
      SANDBOX_DOWN_MS: '1000',
      SANDBOX_HANG_MAX_MS: '2000',
      SANDBOX_SEED: '42',
      SANDBOX_BODY_LIMIT: '2000000',
      SANDBOX_MAX_OPERATION_BYTES: '1000',
      SANDBOX_MAX_BATCH_BYTES: '5000',
      SANDBOX_MAX_ATTRIBUTE_VALUE_BYTES: '10',
      SANDBOX_MAX_ATTRIBUTES: '3',
      SANDBOX_MAX_IDENTIFIER_BYTES: '20',
      SANDBOX_MAX_ATTRIBUTE_NAME_BYTES: '8',
      SANDBOX_MAX_EVENT_NAME_BYTES: '9',
      SANDBOX_MAX_EVENT_DATA_BYTES: '500',
      SANDBOX_MAX_TIMESTAMP_SECONDS: '2000000000',
      SANDBOX_RETENTION_OPERATIONS: '10',
      SANDBOX_LOG_LEVEL: 'warn',
    });

    expect(config.port).toBe(0);
    expect(config.host).toBe('::1');
    expect(config.region).toBe('eu');
    expect(config.usUrl).toBe('http://127.0.0.1:5000');
    expect(config.euUrl).toBe('http://127.0.0.1:5001/');
    expect(config.workspaces).toEqual([
      { siteId: 'a', apiKey: 'ka', region: 'us' },
      { siteId: 'b', apiKey: 'kb', region: 'eu' },
      { siteId: 'c', apiKey: 'kc', region: 'us', rateLimitPerSecond: 25 },
      { siteId: 'd', apiKey: 'kd', region: 'us', rateLimitPerSecond: 7 },
    ]);

    expect(config.rateLimitPerSecond).toBe(100);
    expect(config.retryAfterSeconds).toBe(2);
    expect(config.faults).toEqual({
      latencyMs: 5,
      latencyJitterMs: 3,
      errorRate: 0.1,
      throttleRate: 0.2,
      hangRate: 0.05,
      downForMs: 1000,
    });

    expect(config.hangMaxMs).toBe(2000);
    expect(config.seed).toBe(42);
    expect(config.bodyLimitBytes).toBe(2_000_000);
    expect(config.limits).toEqual({
      maxOperationBytes: 1000,
      maxBatchBytes: 5000,
      maxAttributeValueBytes: 10,
      maxAttributes: 3,
      maxIdentifierBytes: 20,
      maxAttributeNameBytes: 8,
      maxEventNameBytes: 9,
      maxEventDataBytes: 500,
      maxTimestampSeconds: 2_000_000_000,
    });
    expect(config.retentionOperations).toBe(10);
    expect(config.logLevel).toBe('warn');
  });

  it('names each invalid variable with its value', () => {
    const error = configErrorOf(() =>
      loadConfigFromEnv({
        SANDBOX_PORT: 'abc',
        SANDBOX_REGION: 'asia',
        SANDBOX_ERROR_RATE: '1.5',
        SANDBOX_MAX_BATCH_BYTES: '-1',
        SANDBOX_EU_URL: 'track-eu',
        SANDBOX_LOG_LEVEL: 'loud',
        SANDBOX_SEED: '1.5',
      }),
    );
    expect(error.problems).toEqual(
      expect.arrayContaining([
        'SANDBOX_PORT: invalid value "abc", expected an integer from 0 to 65535',
        'SANDBOX_REGION: invalid value "asia", expected us or eu',
        'SANDBOX_ERROR_RATE: invalid value "1.5", expected a number from 0 to 1',
        'SANDBOX_MAX_BATCH_BYTES: invalid value "-1", expected an integer 1 or more',
        'SANDBOX_EU_URL: invalid value "track-eu", expected an http or https URL such as http://127.0.0.1:4011',
        'SANDBOX_LOG_LEVEL: invalid value "loud", expected fatal, error, warn, info, debug, trace, silent',
        'SANDBOX_SEED: invalid value "1.5", expected an integer from 0 to 4294967295',
      ]),
    );
    expect(error.problems).toHaveLength(7);
  });

  it('reports workspace entries without their API key', () => {
    const error = configErrorOf(() =>
      loadConfigFromEnv({
        SANDBOX_WORKSPACES: 'good:secret-1, bad-format, x:secret-2:mars, y:secret-3:us:fast',
      }),
    );
    const text = error.problems.join('\n');
    expect(text).toContain('SANDBOX_WORKSPACES entry 2 ("bad-format"): invalid format');
    expect(text).toContain(
      'SANDBOX_WORKSPACES entry 3 ("x:***:mars"): invalid region "mars", expected us or eu',
    );
    expect(text).toContain(
      'SANDBOX_WORKSPACES entry 4 ("y:***:us:fast"): invalid rateLimitPerSecond NaN, expected an integer 0 or more',
    );
    expect(text).not.toContain('secret');
  });

  it('rejects fault shares that sum above 1', () => {
    const error = configErrorOf(() =>
      loadConfigFromEnv({ SANDBOX_ERROR_RATE: '0.6', SANDBOX_HANG_RATE: '0.6' }),
    );
    expect(error.problems).toEqual([
      'SANDBOX_ERROR_RATE + SANDBOX_THROTTLE_RATE + SANDBOX_HANG_RATE: invalid value 1.2, expected a sum of at most 1',
    ]);
  });
});
