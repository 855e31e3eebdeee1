import { type JsonObject, describeValue, isJsonObject, jsonBytes, jsonBytesBound } from './json';
import {
  type CheckContext,
  type Problem,
  checkAttributes,
  checkEventData,
  checkEventId,
  checkEventName,
  checkOneIdentifier,
  checkObjectIdentifiers,
  checkRequiredString,
  checkTimestamp,
} from './limits';
import {
  type Action,
  type Operation,
  ACTIONS,
  ENTITY_TYPES,
  MERGE_IDENTIFIER_KEYS,
  PERSON_IDENTIFIER_KEYS,
  isAction,
  isEntityType,
} from './operations';

const DELIVERY_IDENTIFIER_KEYS = ['id'] as const;

/** Returns the operation typed as such when it is valid, or the first problem found. */
export function validateOperation(
  value: unknown,
  context: CheckContext,
): { operation: Operation } | { problem: Problem } {
  if (!isJsonObject(value)) {
    return {
      problem: {
        field: 'operation',
        reason: 'invalid',
        message: 'operation must be a JSON object',
      },
    };
  }
  const sized = measureOperation(value, context);
  if ('problem' in sized) {
    return sized;
  }
  const operationContext = sized.context;
  const problem =
    checkType(value.type) ??
    checkAction(value.action) ??
    checkSubject(value, operationContext) ??
    checkActionFields(value, value.action as Action, operationContext) ??
    checkTimestamp('timestamp', value.timestamp, operationContext);
  if (problem !== null) {
    return { problem };
  }
  // Every field that the Operation type names has been checked above.
  return { operation: value as Operation };
}

/**
 * Checks the operation's size as JSON, which is measured only when the request body is
 * larger than the limit, and serialized only when `jsonBytesBound` cannot show it is within
 * the limit. On success, returns a context whose `bodyBytes` bounds the operation's own size:
 * it bounds every value inside the operation, so the later checks can skip serializing event
 * data or nested attributes that cannot exceed their limits.
 */
function measureOperation(
  operation: JsonObject,
  context: CheckContext,
): { context: CheckContext } | { problem: Problem } {
  const limit = context.limits.maxOperationBytes;
  if (context.bodyBytes <= limit) {
    return { context };
  }
  const bound = jsonBytesBound(operation, limit);
  if (bound <= limit) {
    return { context: { limits: context.limits, bodyBytes: bound } };
  }
  const bytes = jsonBytes(operation);
  if (bytes > limit) {
    return {
      problem: {
        field: 'operation',
        reason: 'too_large',
        message: `operation is ${bytes} bytes as JSON, the limit is ${limit} bytes`,
      },
    };
  }
  return { context: { limits: context.limits, bodyBytes: bytes } };
}

function checkType(type: unknown): Problem | null {
  if (isEntityType(type)) {
    return null;
  }
  return {
    field: 'type',
    reason: type === undefined ? 'required' : 'invalid',
    message: `type must be one of ${ENTITY_TYPES.join(', ')}, got ${describeValue(type)}`,
  };
}

function checkAction(action: unknown): Problem | null {
  if (isAction(action)) {
    return null;
  }
  return {
    field: 'action',
    reason: action === undefined ? 'required' : 'invalid',
    message: `action must be one of ${ACTIONS.join(', ')}, got ${describeValue(action)}`,
  };
}

/**
 * Checks who the operation is about: `primary` and `secondary` for a merge, both object
 * identifiers for an object, `id` for a delivery, and exactly one of id, email, phone or
 * cio_id for a person. A person's event may name an `anonymous_id` instead.
 */
function checkSubject(operation: JsonObject, context: CheckContext): Problem | null {
  const action = operation.action as Action;
  if (action === 'merge') {
    return (
      checkOneIdentifier('primary', operation.primary, MERGE_IDENTIFIER_KEYS, context) ??
      checkOneIdentifier('secondary', operation.secondary, MERGE_IDENTIFIER_KEYS, context)
    );
  }
  switch (operation.type as Operation['type']) {
    case 'object':
      return checkObjectIdentifiers('identifiers', operation.identifiers, context);
    case 'delivery':
      return checkOneIdentifier(
        'identifiers',
        operation.identifiers,
        DELIVERY_IDENTIFIER_KEYS,
        context,
      );
    case 'person': {
      const isEvent = action === 'event' || action === 'page' || action === 'screen';
      if (isEvent && operation.identifiers === undefined && operation.anonymous_id !== undefined) {
        return checkRequiredString(
          'anonymous_id',
          operation.anonymous_id,
          context.limits.maxIdentifierBytes,
        );
      }
      return checkOneIdentifier(
        'identifiers',
        operation.identifiers,
        PERSON_IDENTIFIER_KEYS,
        context,
      );
    }
  }
}

function checkActionFields(
  operation: JsonObject,
  action: Action,
  context: CheckContext,
): Problem | null {
  switch (action) {
    case 'event':
    case 'page':
    case 'screen':
      return (
        checkEventName('name', operation.name, context) ??
        checkEventData('attributes', operation.attributes, context) ??
        checkEventId('id', operation.id)
      );
    case 'add_device':
      return checkDevice(operation.device, true);
    case 'delete_device':
      return checkDevice(operation.device, false);
    case 'add_relationships':
    case 'delete_relationships':
      return (
        checkRelationships(operation.cio_relationships) ??
        checkOptionalAttributes(operation, context)
      );
    case 'identify':
    case 'delete':
    case 'merge':
    case 'suppress':
    case 'unsuppress':
      return checkOptionalAttributes(operation, context);
  }
}

function checkOptionalAttributes(operation: JsonObject, context: CheckContext): Problem | null {
  if (operation.attributes === undefined) {
    return null;
  }
  return checkAttributes('attributes', operation.attributes, context);
}

/** Checks `device`: a `token` string, plus `platform` ios or android when adding. */
function checkDevice(device: unknown, adding: boolean): Problem | null {
  if (!isJsonObject(device)) {
    return {
      field: 'device',
      reason: 'required',
      message: 'device is required and must be an object with a token',
    };
  }
  if (typeof device.token !== 'string' || device.token === '') {
    return { field: 'device.token', reason: 'required', message: 'device.token is required' };
  }
  if (adding && device.platform !== 'ios' && device.platform !== 'android') {
    return {
      field: 'device.platform',
      reason: device.platform === undefined ? 'required' : 'invalid',
      message: `device.platform must be ios or android, got ${describeValue(device.platform)}`,
    };
  }
  return null;
}

function checkRelationships(relationships: unknown): Problem | null {
  if (!Array.isArray(relationships) || relationships.length === 0) {
    return {
      field: 'cio_relationships',
      reason: relationships === undefined ? 'required' : 'invalid',
      message: 'cio_relationships must be a non-empty array',
    };
  }
  const index = relationships.findIndex((relationship) => !isJsonObject(relationship));
  if (index !== -1) {
    return {
      field: `cio_relationships[${index}]`,
      reason: 'invalid',
      message: `cio_relationships[${index}] must be an object`,
    };
  }
  return null;
}
