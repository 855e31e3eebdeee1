/**
 * Customer.io Track API limits on data. Each is the default of a setting; the
 * figures come from Customer.io's Track API documentation and OpenAPI spec.
 */
export interface TrackLimits {
  /** Bytes of one serialized v2 operation. */
  maxOperationBytes: number;
  /** Bytes of one `/api/v2/batch` request body. */
  maxBatchBytes: number;
  /** Bytes of one attribute value, serialized. */
  maxAttributeValueBytes: number;
  /** Bytes of one attribute name. */
  maxAttributeNameBytes: number;
  /** Attributes in one identify call. */
  maxAttributes: number;
  /** Bytes of one identifier (id, email, cio_id, phone, anonymous_id). */
  maxIdentifierBytes: number;
  /** Bytes of an event name. */
  maxEventNameBytes: number;
  /** Bytes of an event's data object, serialized. */
  maxEventDataBytes: number;
}

export const DEFAULT_TRACK_LIMITS: Readonly<TrackLimits> = Object.freeze({
  maxOperationBytes: 32 * 1024,
  maxBatchBytes: 500 * 1024,
  maxAttributeValueBytes: 1000,
  maxAttributeNameBytes: 150,
  maxAttributes: 300,
  maxIdentifierBytes: 150,
  maxEventNameBytes: 100,
  maxEventDataBytes: 100_000,
});

/**
 * Timestamps are unix seconds. A value above this is taken for milliseconds,
 * which Customer.io would read as a date thousands of years ahead.
 */
export const MAX_UNIX_SECONDS = 99_999_999_999;

/**
 * Levels of nested objects and arrays allowed in one operation. Customer.io
 * documents no figure; the bound keeps serializing an operation from
 * exhausting the call stack, far above what real attributes use. It is also
 * below what protobufjs decodes (100 message levels, two per Struct level),
 * so gRPC and HTTP callers meet the same rule.
 */
export const MAX_NESTING_DEPTH = 32;

/** Bytes of `{"batch":[` and `]}` around the operations of a batch body. */
export const BATCH_ENVELOPE_BYTES = '{"batch":[]}'.length;
