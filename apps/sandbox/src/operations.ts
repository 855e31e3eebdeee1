import type { JsonObject } from './json';

export const ENTITY_TYPES = ['person', 'object', 'delivery'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

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

const ENTITY_TYPE_SET: ReadonlySet<string> = new Set(ENTITY_TYPES);
const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);

export function isEntityType(value: unknown): value is EntityType {
  return typeof value === 'string' && ENTITY_TYPE_SET.has(value);
}

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && ACTION_SET.has(value);
}

/** Actions that record an event. Their `id`, when present, must be a ULID and is de-duplicated. */
export function isEventAction(action: Action): action is 'event' | 'page' | 'screen' {
  return action === 'event' || action === 'page' || action === 'screen';
}

/** Identifier keys of people and deliveries: an operation names exactly one of them. */
export const PERSON_IDENTIFIER_KEYS = ['id', 'email', 'phone', 'cio_id'] as const;
/** Identifier keys of `primary` and `secondary` in a merge. */
export const MERGE_IDENTIFIER_KEYS = ['id', 'email', 'cio_id'] as const;

export type Identifiers = Record<string, string | number>;

/**
 * A Track API v2 operation, the form in which the sandbox stores every accepted call.
 * Fields other than these are kept as sent.
 */
export interface Operation {
  type: EntityType;
  action: Action;
  identifiers?: Identifiers;
  /** Anonymous events, which have no `identifiers`. */
  anonymous_id?: string;
  name?: string;
  /** Event id, a ULID. */
  id?: string;
  /** Unix seconds. */
  timestamp?: number;
  /** Person or object attributes, or the event's data. */
  attributes?: JsonObject;
  device?: JsonObject;
  primary?: Identifiers;
  secondary?: Identifiers;
  [field: string]: unknown;
}

/**
 * Returns the identifiers named by a v1 path segment. Like Customer.io, the sandbox infers
 * the type from the value: `cio_<value>` is a cio_id, a value with `@` is an email, and
 * anything else is an id.
 */
export function identifiersFromPath(value: string): Identifiers {
  if (value.startsWith('cio_')) {
    return { cio_id: value.slice(4) };
  }
  if (value.includes('@')) {
    return { email: value };
  }
  return { id: value };
}
