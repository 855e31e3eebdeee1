/** A JSON object: not null, not an array. */
export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Customer.io's error body for v1 calls and whole-request failures: `{"meta":{"error":"..."}}`. */
export interface ErrorBody {
  meta: { error: string };
}

export function errorBody(message: string): ErrorBody {
  return { meta: { error: message } };
}

/**
 * Returns the UTF-8 size of `text` in bytes, or null when it is at most `limit`. Skips
 * the byte count when the string is too short to exceed the limit, because a UTF-16 code
 * unit takes at most 3 bytes in UTF-8.
 */
export function utf8BytesOver(text: string, limit: number): number | null {
  if (text.length * 3 <= limit) {
    return null;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > limit ? bytes : null;
}

/** Returns the size in bytes of `value` serialized with JSON.stringify. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

/** Bytes of the longest JSON.stringify output for a number, such as -0.0000012345678901234567. */
const MAX_NUMBER_BYTES = 25;
/** Bytes of a UTF-16 code unit at most, written as a \uXXXX escape. */
const MAX_CODE_UNIT_BYTES = 6;
/** Nesting past which the bound gives up, so that deep values go to jsonBytes. */
const MAX_BOUND_DEPTH = 64;

/**
 * Returns a number no smaller than `jsonBytes(value)`, or Infinity once it would pass
 * `cap`, without serializing: strings count 6 bytes per UTF-16 code unit. It takes
 * about a tenth of the time of `jsonBytes` on operations of a few hundred bytes, so
 * callers measure exactly only what the bound cannot clear. Values that JSON.parse
 * does not produce, such as Dates or class instances, also give Infinity.
 */
export function jsonBytesBound(value: unknown, cap: number): number {
  const bound = boundAt(value, cap, 0);
  return bound > cap ? Number.POSITIVE_INFINITY : bound;
}

function boundAt(value: unknown, cap: number, depth: number): number {
  switch (typeof value) {
    case 'string':
      return value.length * MAX_CODE_UNIT_BYTES + 2;
    case 'number':
      return MAX_NUMBER_BYTES;
    case 'boolean':
      return 5;
    case 'object':
      break;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return Number.POSITIVE_INFINITY;
  }
  if (value === null) {
    return 4;
  }
  if (depth >= MAX_BOUND_DEPTH) {
    return Number.POSITIVE_INFINITY;
  }
  // Brackets or braces, then one comma or colon per element or member at most.
  let total = 2;
  if (Array.isArray(value)) {
    for (const element of value) {
      total += boundAt(element, cap, depth + 1) + 1;
      if (total > cap) {
        return Number.POSITIVE_INFINITY;
      }
    }
    return total;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) {
    return Number.POSITIVE_INFINITY;
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    // The 4 bytes are the key's quotes, its colon and a comma.
    total += key.length * MAX_CODE_UNIT_BYTES + 4 + boundAt(object[key], cap, depth + 1);
    if (total > cap) {
      return Number.POSITIVE_INFINITY;
    }
  }
  return total;
}

/**
 * Returns `value` as JSON for messages. Undefined becomes "nothing" and non-finite numbers
 * become NaN or Infinity, where JSON.stringify would return undefined or null.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return String(value);
  }
  const text = JSON.stringify(value) as string | undefined;
  return text ?? 'nothing';
}
