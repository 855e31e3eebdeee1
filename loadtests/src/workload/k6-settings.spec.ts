import {
  defaultInsecureTls,
  DEFAULT_RATES,
  profilePathOf,
  readK6Settings,
  summaryPathOf,
} from './k6-settings';

describe('readK6Settings', () => {
  it('defaults to the local gateway and demo workspace', () => {
    const settings = readK6Settings('track', {});
    expect(settings.gatewayUrl).toBe('https://127.0.0.1:3000');
    expect(settings.siteId).toBe('site-demo');
    expect(settings.apiKey).toBe('key-demo');
    expect(settings.insecureTls).toBe(true);
    expect(settings.profilePath).toBe('../profiles/default.json');
    expect(settings.arrival.rate).toBe(DEFAULT_RATES.track);
    expect(settings.arrival.rampTo).toBe(DEFAULT_RATES.track * 2);
    expect(settings.reportDir).toBe('reports');
  });

  it('reads every variable', () => {
    const settings = readK6Settings('batch', {
      GATEWAY_URL: 'http://gateway.internal:8080/',
      SITE_ID: 'site-a',
      API_KEY: 'key-a',
      PROFILE: '/data/profile.json',
      RATE: '20',
      RAMP_TO: '60',
      DURATION: '1m',
      RAMP_DURATION: '2m30s',
      HOLD_DURATION: '45s',
      PRE_ALLOCATED_VUS: '7',
      MAX_VUS: '70',
      P95_MS: '100',
      P99_MS: '400',
      MAX_ERROR_RATE: '0.001',
      REPORT_DIR: '/tmp/out/',
      SEED: '9',
    });
    expect(settings).toEqual({
      scenario: 'batch',
      gatewayUrl: 'http://gateway.internal:8080',
      siteId: 'site-a',
      apiKey: 'key-a',
      insecureTls: false,
      profilePath: '/data/profile.json',
      seed: 9,
      arrival: {
        rate: 20,
        duration: '1m',
        rampTo: 60,
        rampDuration: '2m30s',
        holdDuration: '45s',
        preAllocatedVUs: 7,
        maxVUs: 70,
      },
      thresholds: { p95Ms: 100, p99Ms: 400, maxErrorRate: 0.001 },
      reportDir: '/tmp/out',
    });
  });

  it('skips certificate checks only when INSECURE_TLS says so for other hosts', () => {
    const url = 'https://gateway.example.com';
    expect(readK6Settings('track', { GATEWAY_URL: url }).insecureTls).toBe(false);
    expect(readK6Settings('track', { GATEWAY_URL: url, INSECURE_TLS: 'true' }).insecureTls).toBe(
      true,
    );
    expect(
      readK6Settings('track', { GATEWAY_URL: 'https://127.0.0.1:3000', INSECURE_TLS: 'false' })
        .insecureTls,
    ).toBe(false);
  });

  it('lists every invalid variable in one error', () => {
    let message = '';
    try {
      readK6Settings('identify', {
        GATEWAY_URL: 'ftp://host',
        RATE: '1.5',
        DURATION: 'ten seconds',
        INSECURE_TLS: 'maybe',
        MAX_VUS: '2',
        PRE_ALLOCATED_VUS: '5',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('GATEWAY_URL="ftp://host" is not an http:// or https:// URL');
    expect(message).toContain('RATE=1.5 is invalid: expected a whole number of at least 1');
    expect(message).toContain('DURATION="ten seconds" is invalid');
    expect(message).toContain('INSECURE_TLS="maybe" is invalid: use true or false');
    expect(message).toContain('MAX_VUS (2) is below PRE_ALLOCATED_VUS (5)');
  });

  it('rejects a negative number', () => {
    expect(() => readK6Settings('track', { P95_MS: '-1' })).toThrow(/P95_MS="-1" is invalid/);
  });

  it('rejects an error rate above 1', () => {
    expect(() => readK6Settings('track', { MAX_ERROR_RATE: '2' })).toThrow(
      /MAX_ERROR_RATE must be from 0 to 1/,
    );
  });
});

describe('defaultInsecureTls', () => {
  it.each([
    ['https://127.0.0.1:3000', true],
    ['https://127.0.0.1', true],
    ['https://127.0.0.1/base', true],
    ['http://127.0.0.1:3000', false],
    ['https://localhost:3000', false],
    ['https://127.0.0.10:3000', false],
    ['https://127.0.0.1.example.com', false],
  ])('%s gives %p', (url, expected) => {
    expect(defaultInsecureTls(url)).toBe(expected);
  });
});

describe('profilePathOf', () => {
  it('maps a name to the profiles folder', () => {
    expect(profilePathOf('heavy')).toBe('../profiles/heavy.json');
  });

  it('keeps a path', () => {
    expect(profilePathOf('/abs/p.json')).toBe('/abs/p.json');
    expect(profilePathOf('./p.json')).toBe('./p.json');
  });
});

describe('summaryPathOf', () => {
  it('names the file after the scenario', () => {
    expect(summaryPathOf({ reportDir: 'reports', scenario: 'mixed' })).toBe(
      'reports/k6-mixed.json',
    );
  });
});
