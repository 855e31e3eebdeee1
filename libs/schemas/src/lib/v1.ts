import { checkOperation, type CheckedOperation, type ValidateOptions } from './validate-operation';
import { describeType, fail, isPlainObject, type Parsed } from './validation-error';

/**
 * Conversions of Track API v1 calls into v2 operations. Each result goes
 * through `checkOperation`, so v1 and v2 calls meet the same limits. A valid
 * result carries the JSON text that was measured.
 */

/** Reads the kind of a path identifier from its shape, as Customer.io does. */
export function identifiersFromPath(identifier: string): Record<string, string> {
  if (identifier.startsWith('cio_')) {
    return { cio_id: identifier.slice('cio_'.length) };
  }
  if (identifier.includes('@')) {
    return { email: identifier };
  }
  return { id: identifier };
}

export function fromIdentify(
  identifier: string,
  body: unknown,
  options: ValidateOptions,
): Parsed<CheckedOperation> {
  const attributes = body ?? {};
  if (!isPlainObject(attributes)) {
    return fail('', 'invalid_type', `body must be a JSON object, got ${describeType(attributes)}`);
  }
  const { _timestamp, _update, cio_relationships, ...rest } = attributes;
  if (_update !== undefined) {
    return fail(
      '_update',
      'unknown_field',
      '_update has no equivalent in the v2 batch API; send a plain identify instead',
    );
  }
  const input: Record<string, unknown> = {
    type: 'person',
    action: 'identify',
    identifiers: identifiersFromPath(identifier),
    attributes: rest,
  };
  if (_timestamp !== undefined) {
    input['timestamp'] = _timestamp;
  }
  if (cio_relationships !== undefined) {
    input['cio_relationships'] = relationshipsOf(cio_relationships);
  }
  return prefixErrors(checkOperation(input, options), {
    timestamp: '_timestamp',
    // v1 identify attributes are the body's top-level fields.
    attributes: '',
  });
}

export function fromTrack(
  identifier: string | undefined,
  body: unknown,
  options: ValidateOptions,
): Parsed<CheckedOperation> {
  if (!isPlainObject(body)) {
    return fail('', 'invalid_type', `body must be a JSON object, got ${describeType(body)}`);
  }
  const { name, data, type, timestamp, id, anonymous_id, ...rest } = body;
  const unknownField = Object.keys(rest)[0];
  if (unknownField !== undefined) {
    return fail(unknownField, 'unknown_field', `unknown field "${unknownField}"`);
  }
  const action = type ?? 'event';
  if (action !== 'event' && action !== 'page' && action !== 'screen') {
    return fail('type', 'invalid_value', 'type must be one of event, page, screen');
  }
  if (data !== undefined && !isPlainObject(data)) {
    return fail('data', 'invalid_type', `data must be an object, got ${describeType(data)}`);
  }

  const input: Record<string, unknown> = { type: 'person', action, name, id, timestamp };
  if (identifier !== undefined) {
    input['identifiers'] = identifiersFromPath(identifier);
  } else if (anonymous_id !== undefined) {
    input['anonymous_id'] = anonymous_id;
  } else {
    return fail('anonymous_id', 'required', 'anonymous_id is required for an anonymous event');
  }
  if (data !== undefined) {
    input['attributes'] = data;
  }
  return prefixErrors(checkOperation(input, options), { attributes: 'data' });
}

export function fromPersonAction(
  identifier: string,
  action: 'delete' | 'suppress' | 'unsuppress',
  options: ValidateOptions,
): Parsed<CheckedOperation> {
  const input = { type: 'person', action, identifiers: identifiersFromPath(identifier) };
  return checkOperation(input, options);
}

export function fromAddDevice(
  identifier: string,
  body: unknown,
  options: ValidateOptions,
): Parsed<CheckedOperation> {
  if (!isPlainObject(body)) {
    return fail('', 'invalid_type', `body must be a JSON object, got ${describeType(body)}`);
  }
  const input = {
    type: 'person',
    action: 'add_device',
    identifiers: identifiersFromPath(identifier),
    device: body['device'],
  };
  return checkOperation(input, options);
}

export function fromDeleteDevice(
  identifier: string,
  deviceId: string,
  options: ValidateOptions,
): Parsed<CheckedOperation> {
  const input = {
    type: 'person',
    action: 'delete_device',
    identifiers: identifiersFromPath(identifier),
    device: { token: deviceId },
  };
  return checkOperation(input, options);
}

export function fromMerge(body: unknown, options: ValidateOptions): Parsed<CheckedOperation> {
  if (!isPlainObject(body)) {
    return fail('', 'invalid_type', `body must be a JSON object, got ${describeType(body)}`);
  }
  const input = {
    type: 'person',
    action: 'merge',
    primary: body['primary'],
    secondary: body['secondary'],
  };
  return checkOperation(input, options);
}

/** v1 sends `{action, relationships: [...]}`; v2 takes the list itself. */
function relationshipsOf(value: unknown): unknown {
  if (isPlainObject(value) && Array.isArray(value['relationships'])) {
    return value['relationships'];
  }
  return value;
}

/** Names v1 fields in errors with their v1 names rather than the v2 ones. */
function prefixErrors(
  result: Parsed<CheckedOperation>,
  renames: Record<string, string>,
): Parsed<CheckedOperation> {
  if (result.ok) {
    return result;
  }
  const { field } = result.error;
  for (const [from, to] of Object.entries(renames)) {
    if (field === from || field.startsWith(`${from}.`)) {
      const rest = field.slice(from.length);
      if (to === '') {
        const message = result.error.message.split(`${from}.`).join('');
        return fail(rest.replace(/^\./, ''), result.error.reason, message);
      }
      return fail(to + rest, result.error.reason, result.error.message.split(from).join(to));
    }
  }
  return result;
}
