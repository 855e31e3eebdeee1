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
