import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TRACK_LIMITS } from '@cio-pipeline/schemas';
import { parseProfile, ProfileError, TRACK_LIMITS, utf8ByteLength } from './profile';

const PROFILES_DIR = join(__dirname, '..', '..', 'profiles');

function validProfile(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(PROFILES_DIR, 'default.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

function problemsOf(profile: unknown): string[] {
  try {
    parseProfile(JSON.stringify(profile), 'test.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileError);
    return (error as ProfileError).problems;
  }
  return [];
}

describe('parseProfile', () => {
  it.each(readdirSync(PROFILES_DIR).filter((name) => name.endsWith('.json')))(
    'accepts the shipped profile %s',
    (name) => {
      const profile = parseProfile(readFileSync(join(PROFILES_DIR, name), 'utf8'), name);
      expect(profile.name).toBe(name.replace(/\.json$/, ''));
    },
  );

  it('reads every field of a valid profile', () => {
    const profile = parseProfile(JSON.stringify(validProfile()), 'default.json');
    expect(profile.people).toBe(50_000);
    expect(profile.identify.attributeCount).toEqual({ min: 6, max: 20 });
    expect(profile.events.names[0]).toEqual({ name: 'page_viewed', weight: 40 });
    expect(profile.batch.identifyShare).toBe(0.2);
    expect(profile.mixed).toEqual({ identify: 20, track: 75, batch: 5 });
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseProfile('{', 'broken.json')).toThrow(/invalid traffic profile broken\.json/);
  });

  it('names each missing or invalid field', () => {
    const profile = validProfile();
    delete profile['people'];
    profile['batch'] = { operations: { min: 10, max: 5 }, identifyShare: 2 };
    const problems = problemsOf(profile);
    expect(problems).toContain('people must be an integer of at least 1, got undefined');
    expect(problems).toContain('batch.operations.max (5) is below batch.operations.min (10)');
    expect(problems).toContain('batch.identifyShare must be a number from 0 to 1, got 2');
  });

  it('rejects an empty event list', () => {
    const profile = validProfile();
    profile['events'] = { ...(profile['events'] as object), names: [] };
    expect(problemsOf(profile)).toContain(
      'events.names must be a non-empty array of {"name": ..., "weight": ...}',
    );
  });

  it('rejects an event weight of 0', () => {
    const profile = validProfile();
    profile['events'] = {
      ...(profile['events'] as object),
      names: [{ name: 'page_viewed', weight: 0 }],
    };
    expect(problemsOf(profile)).toContain('events.names[0].weight must be above 0');
  });

  it('rejects values over the attribute value limit', () => {
    const profile = validProfile();
    profile['identify'] = { attributeCount: { min: 1, max: 2 }, valueBytes: { min: 1, max: 1001 } };
    expect(problemsOf(profile).join('\n')).toMatch(
      /identify\.valueBytes\.max is 1001, over Customer\.io's limit of 1000 bytes per value/,
    );
  });

  it('rejects more attributes than Customer.io allows', () => {
    const profile = validProfile();
    profile['identify'] = { attributeCount: { min: 1, max: 301 }, valueBytes: { min: 1, max: 2 } };
    expect(problemsOf(profile).join('\n')).toMatch(/identify\.attributeCount\.max is 301/);
  });

  it('rejects identify calls that could pass the operation limit', () => {
    const profile = validProfile();
    profile['identify'] = {
      attributeCount: { min: 1, max: 200 },
      valueBytes: { min: 1, max: 1000 },
    };
    expect(problemsOf(profile).join('\n')).toMatch(/per operation/);
  });

  it('rejects an event name over 100 bytes', () => {
    const profile = validProfile();
    profile['events'] = {
      ...(profile['events'] as object),
      names: [{ name: 'é'.repeat(51), weight: 1 }],
    };
    expect(problemsOf(profile).join('\n')).toMatch(/events\.names\[0\]\.name is 102 bytes/);
  });

  it('rejects a mix with every weight 0', () => {
    const profile = validProfile();
    profile['mixed'] = { identify: 0, track: 0, batch: 0 };
    expect(problemsOf(profile)).toContain(
      'mixed.identify, mixed.track and mixed.batch must not all be 0',
    );
  });
});

describe('TRACK_LIMITS', () => {
  it('matches the defaults of libs/schemas', () => {
    for (const [name, value] of Object.entries(TRACK_LIMITS)) {
      expect([name, value]).toEqual([
        name,
        DEFAULT_TRACK_LIMITS[name as keyof typeof DEFAULT_TRACK_LIMITS],
      ]);
    }
  });
});

describe('utf8ByteLength', () => {
  it.each(['', 'ascii', 'é', '€', '😀', 'a😀é€', '\ud800'])('matches Buffer for %p', (text) => {
    expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });
});
