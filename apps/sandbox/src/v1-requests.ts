import { describeValue, isJsonObject } from './json';
import {
  type CheckContext,
  type Problem,
  checkAttributes,
  checkEventData,
  checkEventId,
  checkEventName,
  checkIdentifierValue,
  checkOneIdentifier,
  checkRequiredString,
  checkTimestamp,
} from './limits';
import {
  type Identifiers,
  type Operation,
  MERGE_IDENTIFIER_KEYS,
  identifiersFromPath,
} from './operations';

/** A v1 call converted to its v2 operation, or the first problem that rejects it. */
export type Conversion = { operation: Operation } | { problem: Problem };

const DEVICE_PLATFORMS: ReadonlySet<unknown> = new Set(['ios', 'android']);
const EVENT_TYPES: ReadonlySet<unknown> = new Set(['event', 'page', 'screen']);

function checkPathIdentifier(identifier: string, context: CheckContext): Problem | null {
  return checkIdentifierValue('identifier', identifier, context);
}

/** Converts `PUT /api/v1/customers/:identifier`, whose attributes are at the top level of the body. */
export function convertIdentify(
  identifier: string,
  body: unknown,
  context: CheckContext,
): Conversion {
  const attributes = body ?? {};
  const problem =
    checkPathIdentifier(identifier, context) ??
    checkAttributes('attributes', attributes, context, 'request body');
  if (problem !== null) {
    return { problem };
  }
  return {
    operation: {
      type: 'person',
      identifiers: identifiersFromPath(identifier),
      action: 'identify',
      attributes: attributes as Record<string, unknown>,
    },
  };
}

/** Converts a call without a body on `/api/v1/customers/:identifier` (delete, suppress, unsuppress). */
export function convertPersonAction(
  identifier: string,
  action: 'delete' | 'suppress' | 'unsuppress',
  context: CheckContext,
): Conversion {
  const problem = checkPathIdentifier(identifier, context);
  if (problem !== null) {
    return { problem };
  }
  return { operation: { type: 'person', identifiers: identifiersFromPath(identifier), action } };
}

/** Converts `POST /api/v1/customers/:identifier/events`. */
export function convertTrack(identifier: string, body: unknown, context: CheckContext): Conversion {
  const problem = checkPathIdentifier(identifier, context);
  if (problem !== null) {
    return { problem };
  }
  return convertEvent(body, { identifiers: identifiersFromPath(identifier) }, context);
}

/** Converts `POST /api/v1/events`, an event with an optional `anonymous_id` instead of a person. */
export function convertAnonymousEvent(body: unknown, context: CheckContext): Conversion {
  if (!isJsonObject(body)) {
    return {
      problem: { field: 'body', reason: 'invalid', message: 'request body must be a JSON object' },
    };
  }
  const anonymousId = body.anonymous_id;
  if (anonymousId === undefined || anonymousId === null) {
    return convertEvent(body, {}, context);
  }
  const problem = checkRequiredString(
    'anonymous_id',
    anonymousId,
    context.limits.maxIdentifierBytes,
  );
  if (problem !== null) {
    return { problem };
  }
  return convertEvent(body, { anonymous_id: anonymousId as string }, context);
}

function convertEvent(
  body: unknown,
  subject: { identifiers?: Identifiers; anonymous_id?: string },
  context: CheckContext,
): Conversion {
  if (!isJsonObject(body)) {
    return {
      problem: { field: 'body', reason: 'invalid', message: 'request body must be a JSON object' },
    };
  }
  const { name, data, type, timestamp, id } = body;
  const problem =
    checkEventName('name', name, context) ??
    checkEventData('data', data, context) ??
    checkEventType(type) ??
    checkTimestamp('timestamp', timestamp, context) ??
    checkEventId('id', id);
  if (problem !== null) {
    return { problem };
  }
  const operation: Operation = {
    type: 'person',
    ...subject,
    action: type === undefined ? 'event' : (type as 'event' | 'page' | 'screen'),
    name: name as string,
  };
  if (id !== undefined) {
    operation.id = id as string;
  }
  if (timestamp !== undefined) {
    operation.timestamp = timestamp as number;
  }
  if (data !== undefined) {
    operation.attributes = data as Record<string, unknown>;
  }
  return { operation };
}

function checkEventType(type: unknown): Problem | null {
  if (type === undefined || EVENT_TYPES.has(type)) {
    return null;
  }
  return {
    field: 'type',
    reason: 'invalid',
    message: `type must be event, page or screen, got ${describeValue(type)}`,
  };
}

/** Converts `PUT /api/v1/customers/:identifier/devices` with body `{device: {id, platform, last_used?, attributes?}}`. */
export function convertAddDevice(
  identifier: string,
  body: unknown,
  context: CheckContext,
): Conversion {
  const pathProblem = checkPathIdentifier(identifier, context);
  if (pathProblem !== null) {
    return { problem: pathProblem };
  }
  const device = isJsonObject(body) ? body.device : undefined;
  if (!isJsonObject(device)) {
    return {
      problem: {
        field: 'device',
        reason: 'required',
        message:
          'device is required: expected {"device": {"id": ..., "platform": "ios" or "android"}}',
      },
    };
  }
  // NOTE: Customer.io documents no size limit for device tokens, so the sandbox applies the
  // attribute value limit.
  const problem =
    checkRequiredString('device.id', device.id, context.limits.maxAttributeValueBytes) ??
    checkPlatform(device.platform) ??
    checkTimestamp('device.last_used', device.last_used, context) ??
    (device.attributes === undefined
      ? null
      : checkAttributes('device.attributes', device.attributes, context));
  if (problem !== null) {
    return { problem };
  }
  const { id, ...rest } = device;
  return {
    operation: {
      type: 'person',
      identifiers: identifiersFromPath(identifier),
      action: 'add_device',
      device: { token: id, ...rest },
    },
  };
}

function checkPlatform(platform: unknown): Problem | null {
  if (DEVICE_PLATFORMS.has(platform)) {
    return null;
  }
  const reason = platform === undefined ? 'required' : 'invalid';
  return {
    field: 'device.platform',
    reason,
    message: `device.platform must be ios or android, got ${describeValue(platform)}`,
  };
}

/** Converts `DELETE /api/v1/customers/:identifier/devices/:device_id`. */
export function convertDeleteDevice(
  identifier: string,
  deviceId: string,
  context: CheckContext,
): Conversion {
  const problem =
    checkPathIdentifier(identifier, context) ??
    checkRequiredString('device_id', deviceId, context.limits.maxAttributeValueBytes);
  if (problem !== null) {
    return { problem };
  }
  return {
    operation: {
      type: 'person',
      identifiers: identifiersFromPath(identifier),
      action: 'delete_device',
      device: { token: deviceId },
    },
  };
}

/** Converts `POST /api/v1/merge_customers` with body `{primary: {...}, secondary: {...}}`. */
export function convertMerge(body: unknown, context: CheckContext): Conversion {
  if (!isJsonObject(body)) {
    return {
      problem: { field: 'body', reason: 'invalid', message: 'request body must be a JSON object' },
    };
  }
  const problem =
    checkOneIdentifier('primary', body.primary, MERGE_IDENTIFIER_KEYS, context) ??
    checkOneIdentifier('secondary', body.secondary, MERGE_IDENTIFIER_KEYS, context);
  if (problem !== null) {
    return { problem };
  }
  return {
    operation: {
      type: 'person',
      action: 'merge',
      primary: body.primary as Identifiers,
      secondary: body.secondary as Identifiers,
    },
  };
}
