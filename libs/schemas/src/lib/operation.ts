/**
 * The v2 operation of Customer.io's Track API, the one internal form of every
 * accepted call. v1 calls are converted to it at the gateway, the batcher
 * packs it into `/api/v2/batch` bodies unchanged, and the sender delivers it.
 */
export const OPERATION_TYPES = ['person', 'object', 'delivery'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export const ACTIONS = [
  'identify',
  'delete',
  'event',
  'page',
  'screen',
  'add_relationships',
  'delete_relationships',
  'add_device',
  'delete_device',
  'merge',
  'suppress',
  'unsuppress',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions that record an event and carry a ULID `id` used to drop repeats. */
export const EVENT_ACTIONS: ReadonlySet<Action> = new Set<Action>(['event', 'page', 'screen']);

export const PERSON_IDENTIFIER_KINDS = ['id', 'email', 'cio_id', 'phone'] as const;
export type PersonIdentifierKind = (typeof PERSON_IDENTIFIER_KINDS)[number];

/** Exactly one key; objects use their type and id. */
export type Identifiers =
  | { id: string }
  | { email: string }
  | { cio_id: string }
  | { phone: string }
  | { object_type_id: string; object_id: string };

export type AttributeValue = string | number | boolean | null | object;
export type Attributes = Record<string, AttributeValue>;

export interface Device {
  token: string;
  platform?: 'ios' | 'android';
  last_used?: number;
  attributes?: Attributes;
}

export interface Operation {
  type: OperationType;
  action: Action;
  identifiers?: Identifiers;
  /** The visitor of a person event, page or screen that has no `identifiers`. */
  anonymous_id?: string;
  /** Event, page or screen name. */
  name?: string;
  /** ULID of an event; Customer.io ignores an event whose id it has seen. */
  id?: string;
  /** Unix seconds. */
  timestamp?: number;
  attributes?: Attributes;
  device?: Device;
  primary?: Identifiers;
  secondary?: Identifiers;
  cio_relationships?: unknown[];
}

/** Workspace of Customer.io, addressed by site id. */
export type Region = 'us' | 'eu';

/**
 * Operations of one request that map to one partition, in request order, as
 * the JSON format of the operations topic carries them (see
 * `decodeOperationsMessage` for both formats). Carries no credential: the
 * workspace is named by its site id only, and the sender looks the key up in
 * its settings.
 */
export interface OperationEnvelope {
  workspace: string;
  /** Gateway acceptance time, unix milliseconds. */
  acceptedAt: number;
  requestId: string;
  operations: Operation[];
}

/** Text that identifies the person (or object) an operation is about, for ordering. */
export function personKeyOf(operation: Operation): string {
  const identifiers = operation.action === 'merge' ? operation.primary : operation.identifiers;
  if (identifiers === undefined) {
    return operation.anonymous_id === undefined ? '' : `anonymous_id:${operation.anonymous_id}`;
  }
  if ('object_type_id' in identifiers) {
    return `object:${identifiers.object_type_id}:${identifiers.object_id}`;
  }
  const [kind, text] = Object.entries(identifiers)[0] ?? ['', ''];
  // Customer.io compares emails without case, so one person's keys must match.
  return `${kind}:${kind === 'email' ? text.toLowerCase() : text}`;
}

/** Kafka message key: workspace and person, so one person's operations share a partition. */
export function operationKey(workspace: string, operation: Operation): string {
  return personMessageKey(workspace, personKeyOf(operation));
}

/** Returns the same key from a person key that `personKeyOf` returned. */
export function personMessageKey(workspace: string, personKey: string): string {
  return `${workspace}/${personKey}`;
}
