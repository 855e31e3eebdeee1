import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_TRACK_LIMITS,
  fromIdentify,
  fromTrack,
  parseBatchRequest,
  type ValidateOptions,
} from '@cio-pipeline/schemas';
import { TrafficGenerator, type TrackApiCall } from './generator';
import { parseProfile, type Profile } from './profile';

const PROFILES_DIR = join(__dirname, '..', '..', 'profiles');
const VALIDATE: ValidateOptions = { limits: DEFAULT_TRACK_LIMITS, assignEventId: () => '' };

function loadProfile(name: string): Profile {
  return parseProfile(readFileSync(join(PROFILES_DIR, `${name}.json`), 'utf8'), name);
}

function generator(profile: Profile, seed = 7, maxBatchBytes = DEFAULT_TRACK_LIMITS.maxBatchBytes) {
  return new TrafficGenerator(profile, { seed, maxBatchBytes });
}

/** Checks a call the way the gateway does; returns the first problem or undefined. */
function gatewayProblem(call: TrackApiCall): string | undefined {
  const body: unknown = JSON.parse(call.body);
  const id = /^\/api\/v1\/customers\/([^/]+)/.exec(call.path)?.[1] ?? '';
  switch (call.kind) {
    case 'identify': {
      const parsed = fromIdentify(id, body, VALIDATE);
      return parsed.ok ? undefined : parsed.error.message;
    }
    case 'track': {
      const parsed = fromTrack(id, body, VALIDATE);
      return parsed.ok ? undefined : parsed.error.message;
    }
    case 'batch': {
      const parsed = parseBatchRequest(body, call.bodyBytes, VALIDATE);
      if (!parsed.ok) {
        return parsed.error.message;
      }
      return parsed.value.rejected[0]?.message;
    }
  }
}

describe('TrafficGenerator', () => {
  const profiles = readdirSync(PROFILES_DIR)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.replace(/\.json$/, ''));

  it.each(profiles)('makes only calls the gateway accepts, profile %s', (name) => {
    const calls = generator(loadProfile(name));
    for (let i = 0; i < 300; i++) {
      for (const scenario of ['identify', 'track', 'mixed'] as const) {
        const call = calls.next(scenario);
        expect([call.kind, gatewayProblem(call)]).toEqual([call.kind, undefined]);
      }
    }
    for (let i = 0; i < 20; i++) {
      const call = calls.next('batch');
      expect(gatewayProblem(call)).toBeUndefined();
    }
  });

  it('gives the same calls for the same seed', () => {
    const profile = loadProfile('default');
    const first = generator(profile, 42);
    const second = generator(profile, 42);
    for (let i = 0; i < 50; i++) {
      expect(second.next('mixed')).toEqual(first.next('mixed'));
    }
  });

  it('gives other calls for another seed', () => {
    const profile = loadProfile('default');
    expect(generator(profile, 1).identifyCall().body).not.toBe(
      generator(profile, 2).identifyCall().body,
    );
  });

  it('keeps identify attributes within the profile ranges', () => {
    const profile = loadProfile('default');
    const calls = generator(profile);
    for (let i = 0; i < 500; i++) {
      const call = calls.identifyCall();
      const attributes = JSON.parse(call.body) as Record<string, string>;
      const names = Object.keys(attributes);
      expect(names.length).toBeGreaterThanOrEqual(profile.identify.attributeCount.min);
      expect(names.length).toBeLessThanOrEqual(profile.identify.attributeCount.max);
      expect(attributes['email']).toMatch(/^user-\d+@example\.com$/);
      for (const name of names.filter((key) => key !== 'email')) {
        expect(attributes[name]?.length).toBeGreaterThanOrEqual(profile.identify.valueBytes.min);
        expect(attributes[name]?.length).toBeLessThanOrEqual(profile.identify.valueBytes.max);
        expect(name.length).toBeLessThanOrEqual(16);
      }
    }
  });

  it('keeps event data and names within the profile', () => {
    const profile = loadProfile('default');
    const names = new Set(profile.events.names.map((event) => event.name));
    const calls = generator(profile);
    for (let i = 0; i < 500; i++) {
      const call = calls.trackCall();
      const body = JSON.parse(call.body) as { name: string; data: Record<string, string> };
      expect(names.has(body.name)).toBe(true);
      const count = Object.keys(body.data).length;
      expect(count).toBeGreaterThanOrEqual(profile.events.dataCount.min);
      expect(count).toBeLessThanOrEqual(profile.events.dataCount.max);
      expect(call.path).toMatch(/^\/api\/v1\/customers\/user-\d+\/events$/);
    }
  });

  it('picks people from the profile count', () => {
    const profile = { ...loadProfile('default'), people: 3 };
    const calls = generator(profile);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      seen.add(calls.trackCall().path);
    }
    expect([...seen].sort()).toEqual([
      '/api/v1/customers/user-0/events',
      '/api/v1/customers/user-1/events',
      '/api/v1/customers/user-2/events',
    ]);
  });

  it('draws event names by weight', () => {
    const profile = loadProfile('default');
    const calls = generator(profile);
    const counts = new Map<string, number>();
    const total = 20_000;
    for (let i = 0; i < total; i++) {
      const name = calls.eventOperation().name ?? '';
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const weights = profile.events.names.reduce((sum, event) => sum + event.weight, 0);
    for (const event of profile.events.names) {
      const expected = (event.weight / weights) * total;
      expect(Math.abs((counts.get(event.name) ?? 0) - expected)).toBeLessThan(expected * 0.1 + 30);
    }
  });

  it('mixes calls by the mixed weights', () => {
    const profile = loadProfile('default');
    const calls = generator(profile);
    const kinds = { identify: 0, track: 0, batch: 0 };
    const total = 4000;
    for (let i = 0; i < total; i++) {
      kinds[calls.next('mixed').kind] += 1;
    }
    expect(kinds.identify / total).toBeCloseTo(0.2, 1);
    expect(kinds.track / total).toBeCloseTo(0.75, 1);
    expect(kinds.batch / total).toBeCloseTo(0.05, 1);
  });

  it('sends only identify and track as single calls', () => {
    const calls = generator(loadProfile('default'));
    for (let i = 0; i < 200; i++) {
      expect(['identify', 'track']).toContain(calls.singleCall().kind);
    }
  });

  it('sizes batches within the profile range', () => {
    const profile = loadProfile('default');
    const calls = generator(profile);
    for (let i = 0; i < 30; i++) {
      const call = calls.batchCall();
      expect(call.operations).toBeGreaterThanOrEqual(profile.batch.operations.min);
      expect(call.operations).toBeLessThanOrEqual(profile.batch.operations.max);
      expect((JSON.parse(call.body) as { batch: unknown[] }).batch).toHaveLength(call.operations);
    }
  });

  it('stops a batch before its body passes maxBatchBytes', () => {
    const calls = generator(loadProfile('heavy'), 3, 50_000);
    for (let i = 0; i < 10; i++) {
      const call = calls.batchCall();
      expect(call.bodyBytes).toBeLessThanOrEqual(50_000);
      expect(call.bodyBytes).toBe(Buffer.byteLength(call.body, 'utf8'));
      expect(call.operations).toBeGreaterThan(0);
    }
  });

  it('puts identify operations in batches at the identify share', () => {
    const calls = generator(loadProfile('default'));
    let identify = 0;
    const total = 10_000;
    for (let i = 0; i < total; i++) {
      if (calls.batchOperation().action === 'identify') {
        identify += 1;
      }
    }
    expect(identify / total).toBeCloseTo(0.2, 1);
  });
});

describe('workload sources', () => {
  // k6 loads these files, so they may import only each other (by .ts path), not Node.js or k6 modules.
  it.each(readdirSync(__dirname).filter((name) => !name.endsWith('.spec.ts')))(
    '%s imports only sibling .ts files',
    (name) => {
      const source = readFileSync(join(__dirname, name), 'utf8');
      const specifiers = [...source.matchAll(/^import[^;]*?from '([^']+)';/gms)].map(
        (match) => match[1],
      );
      for (const specifier of specifiers) {
        expect(specifier).toMatch(/^\.\/[\w-]+\.ts$/);
      }
    },
  );
});
