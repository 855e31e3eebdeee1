import type { LimitsConfig } from './config';
import { describeValue, isJsonObject, jsonBytes, utf8BytesOver } from './json';
import { isUlid } from './ulid';

/** Reason codes of a rejected value, as sent in the `reason` field of a v2 batch error. */
export type ProblemReason = 'required' | 'invalid' | 'too_large' | 'too_many';

/** A rejected value: the field path (such as `attributes.plan`), a reason code and a message for people. */
export interface Problem {
  field: string;
  reason: ProblemReason;
  message: string;
}

/** Limits, plus an upper bound on the JSON size of any value being checked. */
export interface CheckContext {
  limits: LimitsConfig;
  /**
   * Size of the request body, or of the enclosing operation once measured. Checks skip
   * serializing values when this bound is already within their limit.
   */
  bodyBytes: number;
}

function tooLarge(field: string, bytes: number, limit: number, qualifier = ''): Problem {
  return {
    field,
    reason: 'too_large',
    message: `${field}${qualifier} is ${bytes} bytes, the limit is ${limit} bytes`,
  };
}

/** Checks a required non-empty string of at most `limit` bytes. */
export function checkRequiredString(field: string, value: unknown, limit: number): Problem | null {
  if (value === undefined || value === null || value === '') {
    return { field, reason: 'required', message: `${field} is required` };
  }
  if (typeof value !== 'string') {
    return { field, reason: 'invalid', message: `${field} must be a string` };
  }
  const bytes = utf8BytesOver(value, limit);
  return bytes === null ? null : tooLarge(field, bytes, limit);
}

/** Checks one identifier value: a non-empty string (or a number, for ids) within the identifier limit. */
export function checkIdentifierValue(
  field: string,
  value: unknown,
  context: CheckContext,
): Problem | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return checkRequiredString(field, String(value), context.limits.maxIdentifierBytes);
  }
  return checkRequiredString(field, value, context.limits.maxIdentifierBytes);
}

/** Checks an identifiers object that must contain exactly one of `keys` and nothing else. */
export function checkOneIdentifier(
  field: string,
  value: unknown,
  keys: readonly string[],
  context: CheckContext,
): Problem | null {
  const expected = `exactly one of ${keys.join(', ')}`;
  if (value === undefined || value === null) {
    return { field, reason: 'required', message: `${field} is required: expected ${expected}` };
  }
  if (!isJsonObject(value)) {
    return { field, reason: 'invalid', message: `${field} must be an object with ${expected}` };
  }
  const present = Object.keys(value);
  const [key] = present;
  if (present.length !== 1 || key === undefined || !keys.includes(key)) {
    const found = present.length === 0 ? 'none' : present.join(', ');
    return {
      field,
      reason: 'invalid',
      message: `${field} must contain ${expected}, found ${found}`,
    };
  }
  return checkIdentifierValue(`${field}.${key}`, value[key], context);
}

/** Checks an object's identifiers: `object_type_id` and `object_id`, both required. */
export function checkObjectIdentifiers(
  field: string,
  value: unknown,
  context: CheckContext,
): Problem | null {
  if (!isJsonObject(value)) {
    const reason = value === undefined || value === null ? 'required' : 'invalid';
    return {
      field,
      reason,
      message: `${field} must be an object with object_type_id and object_id`,
    };
  }
  return (
    checkIdentifierValue(`${field}.object_type_id`, value.object_type_id, context) ??
    checkIdentifierValue(`${field}.object_id`, value.object_id, context)
  );
}

/**
 * Checks person or object attributes: an object with at most `maxAttributes` keys, names
 * within `maxAttributeNameBytes`, and values within `maxAttributeValueBytes`. Strings are
 * measured in UTF-8, and nested objects and arrays as JSON. `label` names the object in
 * messages, where it differs from the field path.
 */
export function checkAttributes(
  field: string,
  value: unknown,
  context: CheckContext,
  label = field,
): Problem | null {
  if (!isJsonObject(value)) {
    return { field, reason: 'invalid', message: `${label} must be an object` };
  }
  const { maxAttributes, maxAttributeNameBytes, maxAttributeValueBytes } = context.limits;
  const names = Object.keys(value);
  if (names.length > maxAttributes) {
    return {
      field,
      reason: 'too_many',
      message: `${label} has ${names.length} attributes, the limit is ${maxAttributes}`,
    };
  }
  const nestedCanExceed = context.bodyBytes > maxAttributeValueBytes;
  for (const name of names) {
    const nameBytes = utf8BytesOver(name, maxAttributeNameBytes);
    if (nameBytes !== null) {
      return {
        field: `${field}.${name}`,
        reason: 'too_large',
        message: `attribute name ${preview(name)} is ${nameBytes} bytes, the limit is ${maxAttributeNameBytes} bytes`,
      };
    }
    const attribute = value[name];
    let valueBytes: number | null = null;
    if (typeof attribute === 'string') {
      valueBytes = utf8BytesOver(attribute, maxAttributeValueBytes);
    } else if (nestedCanExceed && typeof attribute === 'object' && attribute !== null) {
      const bytes = jsonBytes(attribute);
      valueBytes = bytes > maxAttributeValueBytes ? bytes : null;
    }
    if (valueBytes !== null) {
      return {
        field: `${field}.${name}`,
        reason: 'too_large',
        message: `value of attribute ${preview(name)} is ${valueBytes} bytes, the limit is ${maxAttributeValueBytes} bytes`,
      };
    }
  }
  return null;
}

/** Returns a name quoted for messages, cut to 40 characters. */
function preview(name: string): string {
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}...` : name);
}

/** Checks an event's required name. */
export function checkEventName(
  field: string,
  value: unknown,
  context: CheckContext,
): Problem | null {
  return checkRequiredString(field, value, context.limits.maxEventNameBytes);
}

/** Checks optional event data: an object of at most `maxEventDataBytes` as JSON. */
export function checkEventData(
  field: string,
  value: unknown,
  context: CheckContext,
): Problem | null {
  if (value === undefined) {
    return null;
  }
  if (!isJsonObject(value)) {
    return { field, reason: 'invalid', message: `${field} must be an object` };
  }
  const limit = context.limits.maxEventDataBytes;
  if (context.bodyBytes <= limit) {
    return null;
  }
  const bytes = jsonBytes(value);
  return bytes > limit ? tooLarge(field, bytes, limit, ' (as JSON)') : null;
}

/** Checks an optional timestamp: an integer of unix seconds, not one that looks like milliseconds. */
export function checkTimestamp(
  field: string,
  value: unknown,
  context: CheckContext,
): Problem | null {
  if (value === undefined) {
    return null;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return {
      field,
      reason: 'invalid',
      message: `${field} must be a non-negative integer of unix seconds, got ${describeValue(value)}`,
    };
  }
  const limit = context.limits.maxTimestampSeconds;
  if (value > limit) {
    return {
      field,
      reason: 'invalid',
      message: `${field} ${value} is larger than ${limit}: expected unix seconds, and this looks like milliseconds`,
    };
  }
  return null;
}

/** Checks an optional event id, which must be a ULID. */
export function checkEventId(field: string, value: unknown): Problem | null {
  if (value === undefined) {
    return null;
  }
  if (typeof value !== 'string' || !isUlid(value)) {
    return {
      field,
      reason: 'invalid',
      message: `${field} must be a ULID (26 characters of Crockford base32), got ${describeValue(value)}`,
    };
  }
  return null;
}
