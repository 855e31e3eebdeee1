import { MAX_NESTING_DEPTH } from '@cio-pipeline/schemas';
import { TrackApiError } from '../http/track-api-error';

/**
 * Converts `google.protobuf.Struct` values, as @grpc/proto-loader decodes them
 * with `oneofs: true`, into plain JSON, so gRPC bodies meet the same
 * validation as HTTP bodies.
 */
export interface ProtoValue {
  kind?: string;
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

export function structToJson(
  struct: ProtoStruct | null | undefined,
  depth = 1,
): Record<string, unknown> | undefined {
  if (struct === null || struct === undefined) {
    return undefined;
  }
  if (depth > MAX_NESTING_DEPTH) {
    // Deeper values would be rejected by validation anyway; stop before the stack runs out.
    throw new TrackApiError(
      400,
      `operation nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep`,
    );
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct.fields ?? {})) {
    result[key] = valueToJson(value, depth + 1);
  }
  return result;
}

export function valueToJson(value: ProtoValue, depth = 1): unknown {
  switch (value.kind) {
    case 'numberValue':
      return value.numberValue;
    case 'stringValue':
      return value.stringValue;
    case 'boolValue':
      return value.boolValue;
    case 'structValue':
      return structToJson(value.structValue, depth);
    case 'listValue':
      return (value.listValue?.values ?? []).map((item) => valueToJson(item, depth + 1));
    case 'nullValue':
    case undefined:
      return null;
    default:
      return null;
  }
}

/** Converts plain JSON into a `google.protobuf.Struct`, for clients and tests. */
export function jsonToStruct(json: Record<string, unknown>): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(json)) {
    fields[key] = jsonToValue(value);
  }
  return { fields };
}

export function jsonToValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) {
    return { nullValue: 'NULL_VALUE' };
  }
  if (Array.isArray(value)) {
    return { listValue: { values: value.map(jsonToValue) } };
  }
  switch (typeof value) {
    case 'number':
      return { numberValue: value };
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'object':
      return { structValue: jsonToStruct(value as Record<string, unknown>) };
    case 'bigint':
      return { stringValue: value.toString() };
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  return { nullValue: 'NULL_VALUE' };
}
