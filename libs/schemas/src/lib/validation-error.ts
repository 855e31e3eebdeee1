/** Why an operation or a request was rejected, in the shape of Customer.io's 207 `errors[]`. */
export interface FieldError {
  /** Dotted path of the offending field, such as `attributes.plan`. */
  field: string;
  reason: ErrorReason;
  message: string;
}

export type ErrorReason =
  | 'required'
  | 'invalid_type'
  | 'invalid_value'
  | 'too_large'
  | 'too_many'
  | 'too_deep'
  | 'unknown_field';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: FieldError };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail<T>(field: string, reason: ErrorReason, message: string): Parsed<T> {
  return { ok: false, error: { field, reason, message } };
}

export function tooLarge<T>(field: string, what: string, bytes: number, limit: number): Parsed<T> {
  return fail(field, 'too_large', `${what} is ${bytes} bytes, over the limit of ${limit} bytes`);
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  return Array.isArray(value) ? 'array' : typeof value;
}
