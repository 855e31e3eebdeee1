/**
 * The traffic profile: how many people there are, how large their attributes
 * and events are, which events they send, and how large v2 batch calls are.
 * Profiles are JSON files in loadtests/profiles/. This file and generator.ts
 * are shared by the k6 scripts and the Node.js benchmark, so they use only
 * the JavaScript built-ins both runtimes have: no Node.js or k6 modules.
 */

/** Inclusive range of whole numbers. */
export interface Range {
  min: number;
  max: number;
}

export interface EventName {
  name: string;
  /** Relative frequency among the profile's events. */
  weight: number;
}

export interface Profile {
  name: string;
  /** Distinct people the traffic is about, identified as `user-0` to `user-<people - 1>`. */
  people: number;
  identify: {
    /** Attributes per identify call, `email` included. */
    attributeCount: Range;
    /** Bytes of each attribute value other than `email`. */
    valueBytes: Range;
  };
  events: {
    names: EventName[];
    /** Properties in each event's `data`. */
    dataCount: Range;
    /** Bytes of each property value. */
    valueBytes: Range;
  };
  batch: {
    /** Operations per `/api/v2/batch` call; a call also stops before its body passes `maxBatchBytes`. */
    operations: Range;
    /** Share of identify operations in a batch, from 0 to 1; the rest are events. */
    identifyShare: number;
  };
  /** Relative frequency of each call in the mixed scenario. */
  mixed: { identify: number; track: number; batch: number };
}

/**
 * Customer.io Track API limits that generated payloads must stay within.
 * They are the defaults of `DEFAULT_TRACK_LIMITS` in libs/schemas, copied
 * because k6 cannot load that library; profile.spec.ts checks that they match.
 */
export const TRACK_LIMITS = {
  maxOperationBytes: 32 * 1024,
  maxBatchBytes: 500 * 1024,
  maxAttributeValueBytes: 1000,
  maxAttributes: 300,
  maxEventNameBytes: 100,
  maxEventDataBytes: 100_000,
} as const;

/** Bytes of the longest attribute or property name that generator.ts produces. */
export const MAX_PROPERTY_NAME_BYTES = 16;

/**
 * Bytes that one attribute or data property adds to a serialized operation
 * besides its value: its name, two pairs of quotes, a colon and a comma.
 */
export const PROPERTY_OVERHEAD_BYTES = MAX_PROPERTY_NAME_BYTES + 6;

/** Raised for a profile file that is not valid; the message lists every problem. */
export class ProfileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid traffic profile ${source}: ${problems.join('; ')}`);
    this.name = 'ProfileError';
  }
}

/** Parses and checks a profile from its JSON text; `source` names the file in errors. */
export function parseProfile(text: string, source: string): Profile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProfileError(source, [`not valid JSON: ${(error as Error).message}`]);
  }
  const problems: string[] = [];
  const profile = readProfile(value, problems);
  if (profile === undefined || problems.length > 0) {
    throw new ProfileError(source, problems);
  }
  checkLimits(profile, problems);
  if (problems.length > 0) {
    throw new ProfileError(source, problems);
  }
  return profile;
}

/** Returns the UTF-8 length of a string, computed without TextEncoder or Buffer. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      bytes += 1;
    } else if (code < 0x800) {
      bytes += 2;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one code point of four bytes.
      bytes += 4;
      i += 1;
    } else {
      bytes += 3;
    }
  }
  return bytes;
}

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readProfile(value: unknown, problems: string[]): Profile | undefined {
  if (!isObject(value)) {
    problems.push('the file must contain a JSON object');
    return undefined;
  }
  const identify = readObject(value, 'identify', problems);
  const events = readObject(value, 'events', problems);
  const batch = readObject(value, 'batch', problems);
  const mixed = readObject(value, 'mixed', problems);
  return {
    name: readString(value, 'name', problems, 'name'),
    people: readInteger(value, 'people', problems, 'people', 1),
    identify: {
      attributeCount: readRange(identify, 'attributeCount', problems, 'identify.attributeCount', 1),
      valueBytes: readRange(identify, 'valueBytes', problems, 'identify.valueBytes', 0),
    },
    events: {
      names: readEventNames(events, problems),
      dataCount: readRange(events, 'dataCount', problems, 'events.dataCount', 0),
      valueBytes: readRange(events, 'valueBytes', problems, 'events.valueBytes', 0),
    },
    batch: {
      operations: readRange(batch, 'operations', problems, 'batch.operations', 1),
      identifyShare: readShare(batch, 'identifyShare', problems, 'batch.identifyShare'),
    },
    mixed: {
      identify: readWeight(mixed, 'identify', problems, 'mixed.identify'),
      track: readWeight(mixed, 'track', problems, 'mixed.track'),
      batch: readWeight(mixed, 'batch', problems, 'mixed.batch'),
    },
  };
}

function readObject(parent: Fields, key: string, problems: string[]): Fields {
  const value = parent[key];
  if (!isObject(value)) {
    problems.push(`${key} is missing or not an object`);
    return {};
  }
  return value;
}

function readString(parent: Fields, key: string, problems: string[], path: string): string {
  const value = parent[key];
  if (typeof value !== 'string' || value === '') {
    problems.push(`${path} must be a non-empty string`);
    return '';
  }
  return value;
}

function readInteger(
  parent: Fields,
  key: string,
  problems: string[],
  path: string,
  min: number,
): number {
  const value = parent[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    problems.push(`${path} must be an integer of at least ${min}, got ${JSON.stringify(value)}`);
    return min;
  }
  return value;
}

function readRange(
  parent: Fields,
  key: string,
  problems: string[],
  path: string,
  min: number,
): Range {
  const value = parent[key];
  if (!isObject(value)) {
    problems.push(`${path} must be an object {"min": ..., "max": ...}`);
    return { min, max: min };
  }
  const range = {
    min: readInteger(value, 'min', problems, `${path}.min`, min),
    max: readInteger(value, 'max', problems, `${path}.max`, min),
  };
  if (range.max < range.min) {
    problems.push(`${path}.max (${range.max}) is below ${path}.min (${range.min})`);
  }
  return range;
}

function readShare(parent: Fields, key: string, problems: string[], path: string): number {
  const value = parent[key];
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    problems.push(`${path} must be a number from 0 to 1, got ${JSON.stringify(value)}`);
    return 0;
  }
  return value;
}

function readWeight(parent: Fields, key: string, problems: string[], path: string): number {
  const value = parent[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    problems.push(`${path} must be a number of at least 0, got ${JSON.stringify(value)}`);
    return 0;
  }
  return value;
}

function readEventNames(events: Fields, problems: string[]): EventName[] {
  const value = events['names'];
  if (!Array.isArray(value) || value.length === 0) {
    problems.push('events.names must be a non-empty array of {"name": ..., "weight": ...}');
    return [];
  }
  return value.map((item: unknown, index) => {
    const path = `events.names[${index}]`;
    if (!isObject(item)) {
      problems.push(`${path} must be an object {"name": ..., "weight": ...}`);
      return { name: '', weight: 0 };
    }
    const weight = readWeight(item, 'weight', problems, `${path}.weight`);
    if (weight === 0) {
      problems.push(`${path}.weight must be above 0`);
    }
    return { name: readString(item, 'name', problems, `${path}.name`), weight };
  });
}

/** Checks that the largest payloads the profile allows stay within Customer.io's limits. */
function checkLimits(profile: Profile, problems: string[]): void {
  const { identify, events, batch, mixed } = profile;
  if (identify.attributeCount.max > TRACK_LIMITS.maxAttributes) {
    problems.push(
      `identify.attributeCount.max is ${identify.attributeCount.max}, over Customer.io's limit of ${TRACK_LIMITS.maxAttributes} attributes`,
    );
  }
  if (events.dataCount.max > TRACK_LIMITS.maxAttributes) {
    problems.push(
      `events.dataCount.max is ${events.dataCount.max}, over Customer.io's limit of ${TRACK_LIMITS.maxAttributes} properties`,
    );
  }

  for (const [path, range] of [
    ['identify.valueBytes', identify.valueBytes],
    ['events.valueBytes', events.valueBytes],
  ] as const) {
    if (range.max > TRACK_LIMITS.maxAttributeValueBytes) {
      problems.push(
        `${path}.max is ${range.max}, over Customer.io's limit of ${TRACK_LIMITS.maxAttributeValueBytes} bytes per value`,
      );
    }
  }

  events.names.forEach((event, index) => {
    const bytes = utf8ByteLength(event.name);
    if (bytes > TRACK_LIMITS.maxEventNameBytes) {
      problems.push(
        `events.names[${index}].name is ${bytes} bytes, over Customer.io's limit of ${TRACK_LIMITS.maxEventNameBytes}`,
      );
    }
  });

  // An estimate: 200 bytes cover the other fields of an operation, such as type, action,
  // identifiers, an event's id and the email attribute.
  const identifyBytes =
    200 + identify.attributeCount.max * (identify.valueBytes.max + PROPERTY_OVERHEAD_BYTES);
  if (identifyBytes > TRACK_LIMITS.maxOperationBytes) {
    problems.push(
      `an identify call can reach about ${identifyBytes} bytes, over Customer.io's limit of ${TRACK_LIMITS.maxOperationBytes} bytes per operation: lower identify.attributeCount.max or identify.valueBytes.max`,
    );
  }

  const longestName = Math.max(...events.names.map((event) => utf8ByteLength(event.name)));
  const dataBytes = events.dataCount.max * (events.valueBytes.max + PROPERTY_OVERHEAD_BYTES);
  const eventLimit = Math.min(
    TRACK_LIMITS.maxEventDataBytes,
    TRACK_LIMITS.maxOperationBytes - 200 - longestName,
  );
  if (dataBytes > eventLimit) {
    problems.push(
      `an event's data can reach about ${dataBytes} bytes, over the limit of ${eventLimit} bytes: lower events.dataCount.max or events.valueBytes.max`,
    );
  }

  if (mixed.identify + mixed.track + mixed.batch <= 0) {
    problems.push('mixed.identify, mixed.track and mixed.batch must not all be 0');
  }
  if (batch.operations.max > 100_000) {
    problems.push(`batch.operations.max is ${batch.operations.max}, expected at most 100000`);
  }
}
