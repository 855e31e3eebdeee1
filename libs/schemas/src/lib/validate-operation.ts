import { MAX_NESTING_DEPTH, MAX_UNIX_SECONDS, type TrackLimits } from './limits';
import {
  ACTIONS,
  EVENT_ACTIONS,
  OPERATION_TYPES,
  type Action,
  type Attributes,
  type Device,
  type Identifiers,
  type Operation,
  type OperationType,
} from './operation';
import { isUlid } from './ulid';
import {
  byteLength,
  describeType,
  fail,
  isPlainObject,
  ok,
  tooLarge,
  type Parsed,
} from './validation-error';

const OPERATION_FIELDS = new Set([
  'type',
  'action',
  'identifiers',
  'anonymous_id',
  'name',
  'id',
  'timestamp',
  'attributes',
  'device',
  'primary',
  'secondary',
  'cio_relationships',
]);
const IDENTIFIER_KINDS = ['id', 'email', 'cio_id', 'phone'] as const;
const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);
const TYPE_SET: ReadonlySet<string> = new Set(OPERATION_TYPES);
/** Result of a step that found nothing wrong. Every call shares it, so it is frozen. */
const PASSED: Parsed<true> = Object.freeze(ok(true as const));

export interface ValidateOptions {
  limits: TrackLimits;
  /** Supplies an event id when an event, page or screen operation has none. */
  assignEventId?: () => string;
}

/**
 * Checks one v2 operation against Customer.io's rules and limits and returns
 * a copy with only the known fields. The first problem found is reported with
 * the field, the size found and the limit.
 */
export function validateOperation(input: unknown, options: ValidateOptions): Parsed<Operation> {
  const checked = checkOperation(input, options);
  return checked.ok ? ok(checked.value.operation) : checked;
}

/** An operation that passed validation, with its JSON text and that text's size. */
export interface CheckedOperation {
  operation: Operation;
  serialized: string;
  bytes: number;
}

/**
 * Does what `validateOperation` does and also returns the JSON text it
 * measured, so callers that write the operation need not serialize it again.
 */
export function checkOperation(input: unknown, options: ValidateOptions): Parsed<CheckedOperation> {
  if (!isPlainObject(input)) {
    return fail('', 'invalid_type', `operation must be an object, got ${describeType(input)}`);
  }
  const nesting = inspectNesting(input, MAX_NESTING_DEPTH);
  if (nesting.depth > MAX_NESTING_DEPTH) {
    return fail(
      '',
      'too_deep',
      `operation nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep`,
    );
  }
  // JSON.stringify would write such a number as null, a value the caller never sent.
  if (nesting.nonFinite) {
    return fail(
      '',
      'invalid_value',
      'operation contains a number outside the range of a 64-bit float, such as 1e400; send it as a string',
    );
  }
  const unknownField = Object.keys(input).find((key) => !OPERATION_FIELDS.has(key));
  if (unknownField !== undefined) {
    return fail(unknownField, 'unknown_field', `unknown field "${unknownField}"`);
  }

  const head = parseHead(input);
  if (!head.ok) {
    return head;
  }
  const { type, action } = head.value;
  const operation: Operation = { type, action };

  for (const step of STEPS) {
    const result = step(input, operation, options);
    if (!result.ok) {
      return result;
    }
  }

  const serialized = JSON.stringify(operation);
  const bytes = byteLength(serialized);
  if (bytes > options.limits.maxOperationBytes) {
    return tooLarge('', 'operation', bytes, options.limits.maxOperationBytes);
  }
  return ok({ operation, serialized, bytes });
}

type Step = (
  input: Record<string, unknown>,
  operation: Operation,
  options: ValidateOptions,
) => Parsed<true>;

/** Validation steps in their order: each checks its fields of the input and copies them. */
const STEPS: readonly Step[] = [
  (input, operation, options) => applyIdentifiers(input, operation, options.limits),
  applyEventFields,
  applyTimestamp,
  (input, operation, options) => applyAttributes(input, operation, options.limits),
  (input, operation, options) => applyDevice(input, operation, options.limits),
  (input, operation, options) => applyMerge(input, operation, options.limits),
  applyRelationships,
];

function parseHead(
  input: Record<string, unknown>,
): Parsed<{ type: OperationType; action: Action }> {
  const { type, action } = input;
  if (type === undefined) {
    return fail('type', 'required', 'type is required: one of person, object, delivery');
  }
  if (typeof type !== 'string' || !TYPE_SET.has(type)) {
    return fail('type', 'invalid_value', `type must be one of person, object, delivery`);
  }
  if (action === undefined) {
    return fail('action', 'required', `action is required: one of ${ACTIONS.join(', ')}`);
  }
  if (typeof action !== 'string' || !ACTION_SET.has(action)) {
    return fail('action', 'invalid_value', `action must be one of ${ACTIONS.join(', ')}`);
  }
  return ok({ type: type as OperationType, action: action as Action });
}

function applyIdentifiers(
  input: Record<string, unknown>,
  operation: Operation,
  limits: TrackLimits,
): Parsed<true> {
  if (operation.action === 'merge') {
    if (input['identifiers'] !== undefined) {
      return fail(
        'identifiers',
        'unknown_field',
        'a merge names its people in primary and secondary',
      );
    }
    return PASSED;
  }
  if (input['anonymous_id'] !== undefined) {
    return applyAnonymousId(input, operation, limits);
  }
  const parsed = parseIdentifiers(input['identifiers'], 'identifiers', operation, limits);
  if (!parsed.ok) {
    return parsed;
  }
  operation.identifiers = parsed.value;
  return PASSED;
}

/**
 * Checks the `anonymous_id` that names the visitor of a person event, page or
 * screen in place of `identifiers`, which in v2 hold only id, email, phone or
 * cio_id. NOTE: the v2 form of an anonymous event was not found in Customer.io's
 * documentation; this top-level field is the form the sandbox accepts.
 */
function applyAnonymousId(
  input: Record<string, unknown>,
  operation: Operation,
  limits: TrackLimits,
): Parsed<true> {
  if (operation.type !== 'person' || !EVENT_ACTIONS.has(operation.action)) {
    return fail(
      'anonymous_id',
      'unknown_field',
      'anonymous_id applies to person event, page and screen actions only',
    );
  }
  // NOTE: whether Customer.io accepts both on one event is not documented, so both are rejected.
  if (input['identifiers'] !== undefined) {
    return fail(
      'anonymous_id',
      'invalid_value',
      'an event names its person in identifiers or in anonymous_id, not in both',
    );
  }
  const checked = checkIdentifierValue(input['anonymous_id'], 'anonymous_id', limits);
  if (!checked.ok) {
    return checked;
  }
  operation.anonymous_id = checked.value;
  return PASSED;
}

export function parseIdentifiers(
  value: unknown,
  field: string,
  operation: Pick<Operation, 'type' | 'action'>,
  limits: TrackLimits,
): Parsed<Identifiers> {
  if (value === undefined) {
    return fail(field, 'required', `${field} is required`);
  }
  if (!isPlainObject(value)) {
    return fail(field, 'invalid_type', `${field} must be an object, got ${describeType(value)}`);
  }
  if (operation.type === 'object') {
    return parseObjectIdentifiers(value, field, limits);
  }
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    return fail(
      field,
      'invalid_value',
      `${field} must have exactly one of id, email, cio_id, phone; got ${keys.length} keys`,
    );
  }
  const kind = keys[0] ?? '';
  if (kind === 'anonymous_id') {
    return fail(
      `${field}.anonymous_id`,
      'unknown_field',
      "anonymous_id is not an identifier in v2: send it as the operation's anonymous_id field",
    );
  }
  if (!(IDENTIFIER_KINDS as readonly string[]).includes(kind)) {
    return fail(`${field}.${kind}`, 'unknown_field', `unknown identifier "${kind}"`);
  }
  const checked = checkIdentifierValue(value[kind], `${field}.${kind}`, limits);
  if (!checked.ok) {
    return checked;
  }
  return ok({ [kind]: checked.value } as Identifiers);
}

function parseObjectIdentifiers(
  value: Record<string, unknown>,
  field: string,
  limits: TrackLimits,
): Parsed<Identifiers> {
  const objectType = checkIdentifierValue(
    value['object_type_id'],
    `${field}.object_type_id`,
    limits,
  );
  if (!objectType.ok) {
    return objectType;
  }
  const objectId = checkIdentifierValue(value['object_id'], `${field}.object_id`, limits);
  if (!objectId.ok) {
    return objectId;
  }
  return ok({ object_type_id: objectType.value, object_id: objectId.value });
}

export function checkIdentifierValue(
  value: unknown,
  field: string,
  limits: TrackLimits,
): Parsed<string> {
  if (value === undefined || value === null || value === '') {
    return fail(field, 'required', `${field} is required and must not be empty`);
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    return fail(field, 'invalid_type', `${field} must be a string, got ${describeType(value)}`);
  }
  const text = String(value);
  const bytes = byteLength(text);
  if (bytes > limits.maxIdentifierBytes) {
    return tooLarge(field, field, bytes, limits.maxIdentifierBytes);
  }
  return ok(text);
}

function applyEventFields(
  input: Record<string, unknown>,
  operation: Operation,
  options: ValidateOptions,
): Parsed<true> {
  const { name, id } = input;
  if (!EVENT_ACTIONS.has(operation.action)) {
    if (name !== undefined) {
      return fail('name', 'unknown_field', `name applies to event, page and screen actions only`);
    }
    if (id !== undefined) {
      return fail('id', 'unknown_field', `id applies to event, page and screen actions only`);
    }
    return PASSED;
  }
  if (name === undefined || name === '') {
    return fail('name', 'required', `name is required for a ${operation.action} action`);
  }
  if (typeof name !== 'string') {
    return fail('name', 'invalid_type', `name must be a string, got ${describeType(name)}`);
  }
  const nameBytes = byteLength(name);
  if (nameBytes > options.limits.maxEventNameBytes) {
    return tooLarge('name', 'event name', nameBytes, options.limits.maxEventNameBytes);
  }
  operation.name = name;

  if (id === undefined || id === null || id === '') {
    if (options.assignEventId !== undefined) {
      operation.id = options.assignEventId();
    }
    return PASSED;
  }
  if (typeof id !== 'string' || !isUlid(id)) {
    return fail('id', 'invalid_value', 'id must be a ULID (26 characters of Crockford base 32)');
  }
  operation.id = id.toUpperCase();
  return PASSED;
}

function applyTimestamp(input: Record<string, unknown>, operation: Operation): Parsed<true> {
  const timestamp = parseTimestamp(input['timestamp'], 'timestamp');
  if (!timestamp.ok) {
    return timestamp;
  }
  if (timestamp.value !== undefined) {
    operation.timestamp = timestamp.value;
  }
  return PASSED;
}

export function parseTimestamp(value: unknown, field: string): Parsed<number | undefined> {
  if (value === undefined || value === null) {
    return ok(undefined);
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    return fail(field, 'invalid_type', `${field} must be a whole number of unix seconds`);
  }
  if (value > MAX_UNIX_SECONDS) {
    return fail(
      field,
      'invalid_value',
      `${field} ${value} looks like milliseconds; send unix seconds (at most ${MAX_UNIX_SECONDS})`,
    );
  }
  return ok(value);
}

function applyAttributes(
  input: Record<string, unknown>,
  operation: Operation,
  limits: TrackLimits,
): Parsed<true> {
  const value = input['attributes'];
  if (value === undefined) {
    return PASSED;
  }
  if (!isPlainObject(value)) {
    return fail(
      'attributes',
      'invalid_type',
      `attributes must be an object, got ${describeType(value)}`,
    );
  }
  // Event data travels in attributes in v2 and is not held to person-attribute limits.
  const parsed = EVENT_ACTIONS.has(operation.action)
    ? checkEventData(value, 'attributes', limits)
    : checkAttributes(value, 'attributes', limits);
  if (!parsed.ok) {
    return parsed;
  }
  operation.attributes = parsed.value;
  return PASSED;
}

/** Checks person or object attributes: count, name size and value size. */
export function checkAttributes(
  value: Record<string, unknown>,
  field: string,
  limits: TrackLimits,
): Parsed<Attributes> {
  const names = Object.keys(value);
  if (names.length > limits.maxAttributes) {
    return fail(
      field,
      'too_many',
      `${field} has ${names.length} attributes, over the limit of ${limits.maxAttributes}`,
    );
  }
  for (const name of names) {
    const nameBytes = byteLength(name);
    if (nameBytes > limits.maxAttributeNameBytes) {
      return tooLarge(
        `${field}.${name.slice(0, 40)}`,
        'attribute name',
        nameBytes,
        limits.maxAttributeNameBytes,
      );
    }
    const attribute = value[name];
    if (attribute === undefined) {
      continue;
    }
    const text = typeof attribute === 'string' ? attribute : JSON.stringify(attribute);
    const valueBytes = byteLength(text);
    if (valueBytes > limits.maxAttributeValueBytes) {
      return tooLarge(
        `${field}.${name}`,
        `value of attribute "${name}"`,
        valueBytes,
        limits.maxAttributeValueBytes,
      );
    }
  }
  return ok(value as Attributes);
}

export function checkEventData(
  value: Record<string, unknown>,
  field: string,
  limits: TrackLimits,
): Parsed<Attributes> {
  // Event data is part of the operation: when the operation limit is the
  // smaller one, the operation's own size check covers the data as well.
  if (limits.maxEventDataBytes >= limits.maxOperationBytes) {
    return ok(value as Attributes);
  }
  const bytes = byteLength(JSON.stringify(value));
  if (bytes > limits.maxEventDataBytes) {
    return tooLarge(field, 'event data', bytes, limits.maxEventDataBytes);
  }
  return ok(value as Attributes);
}

function applyDevice(
  input: Record<string, unknown>,
  operation: Operation,
  limits: TrackLimits,
): Parsed<true> {
  const value = input['device'];
  const wantsDevice = operation.action === 'add_device' || operation.action === 'delete_device';
  if (!wantsDevice) {
    return value === undefined
      ? PASSED
      : fail('device', 'unknown_field', 'device applies to add_device and delete_device only');
  }
  const parsed = parseDevice(value, 'device', limits);
  if (!parsed.ok) {
    return parsed;
  }
  operation.device = parsed.value;
  return PASSED;
}

export function parseDevice(value: unknown, field: string, limits: TrackLimits): Parsed<Device> {
  if (!isPlainObject(value)) {
    return fail(field, 'required', `${field} is required and must be an object with a token`);
  }
  const token = value['token'] ?? value['id'];
  if (typeof token !== 'string' || token === '') {
    return fail(`${field}.token`, 'required', `${field}.token is required and must be a string`);
  }
  const device: Device = { token };
  const platform = value['platform'];
  if (platform !== undefined) {
    if (platform !== 'ios' && platform !== 'android') {
      return fail(`${field}.platform`, 'invalid_value', `${field}.platform must be ios or android`);
    }
    device.platform = platform;
  }
  const lastUsed = parseTimestamp(value['last_used'], `${field}.last_used`);
  if (!lastUsed.ok) {
    return lastUsed;
  }
  if (lastUsed.value !== undefined) {
    device.last_used = lastUsed.value;
  }
  const attributes = value['attributes'];
  if (attributes !== undefined) {
    if (!isPlainObject(attributes)) {
      return fail(`${field}.attributes`, 'invalid_type', `${field}.attributes must be an object`);
    }
    const checked = checkAttributes(attributes, `${field}.attributes`, limits);
    if (!checked.ok) {
      return checked;
    }
    device.attributes = checked.value;
  }
  return ok(device);
}

function applyMerge(
  input: Record<string, unknown>,
  operation: Operation,
  limits: TrackLimits,
): Parsed<true> {
  if (operation.action !== 'merge') {
    const stray = input['primary'] !== undefined ? 'primary' : 'secondary';
    return input[stray] === undefined
      ? PASSED
      : fail(stray, 'unknown_field', `${stray} applies to the merge action only`);
  }
  const primary = parseIdentifiers(input['primary'], 'primary', operation, limits);
  if (!primary.ok) {
    return primary;
  }
  const secondary = parseIdentifiers(input['secondary'], 'secondary', operation, limits);
  if (!secondary.ok) {
    return secondary;
  }
  operation.primary = primary.value;
  operation.secondary = secondary.value;
  return PASSED;
}

function applyRelationships(input: Record<string, unknown>, operation: Operation): Parsed<true> {
  const value = input['cio_relationships'];
  if (value === undefined) {
    return PASSED;
  }
  if (!Array.isArray(value)) {
    return fail('cio_relationships', 'invalid_type', 'cio_relationships must be an array');
  }
  operation.cio_relationships = value as unknown[];
  return PASSED;
}

/** Depth of a JSON value, and whether it contains a number that JSON text cannot carry. */
interface Nesting {
  depth: number;
  nonFinite: boolean;
}

/**
 * Measures `value` in one walk without recursion, given up on once past `max`,
 * so a hostile body cannot overflow the stack. `JSON.parse` reads a number
 * beyond the double range, such as 1e400, as Infinity, which `JSON.stringify`
 * writes as null.
 */
function inspectNesting(value: unknown, max: number): Nesting {
  let deepest = 0;
  let nonFinite = false;
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [current, depth] = next;
    if (typeof current !== 'object' || current === null) {
      if (typeof current === 'number' && !Number.isFinite(current)) {
        nonFinite = true;
      }
      continue;
    }
    deepest = Math.max(deepest, depth);
    if (deepest > max) {
      return { depth: deepest, nonFinite };
    }
    for (const child of Object.values(current)) {
      stack.push([child, depth + 1]);
    }
  }
  return { depth: deepest, nonFinite };
}
