import type { TrackLimits } from './limits';
import type { OperationEnvelope } from './operation';
import { fail, isPlainObject, ok, tooLarge, type Parsed } from './validation-error';

/**
 * Messages of the operations topic come in two formats.
 *
 * Lines, written by the gateway for operations it has checked: one or more
 * envelopes separated by a newline, each a header line and then one line of
 * JSON text per operation.
 *
 *     {"count":2,"bytes":181,"workspace":"site-1","acceptedAt":1764900000000,"requestId":"01KB...","persons":[2851307223,1294726046]}
 *     {"type":"person","action":"identify","identifiers":{"id":"42"},"attributes":{"plan":"pro"}}
 *     {"type":"person","action":"event","identifiers":{"id":"42"},"name":"upgraded","id":"01KB..."}
 *
 * `bytes` is the size of the operation lines with the newlines between them,
 * and `persons` the `hashPerson` of each operation's person key, in line
 * order. `JSON.stringify` output contains no raw newline, so a reader finds
 * each operation's bytes without parsing them, and the batcher copies them
 * into a batch body as they are. An envelope whose lines do not match its
 * count fails alone, because the byte count gives where the next one starts.
 *
 * JSON, written by the replay command and by earlier gateways: an
 * `OperationEnvelope` or an array of them. The batcher checks these
 * operations in full, since a replayed dead letter may still be invalid.
 */
export interface LinesEnvelope {
  workspace: string;
  acceptedAt: number;
  requestId: string;
  /** Each operation's JSON text, as a view into the message. */
  operations: Buffer[];
  persons: number[];
}

export type DecodedEnvelope =
  | { ok: true; format: 'lines'; envelope: LinesEnvelope }
  | { ok: true; format: 'json'; envelope: OperationEnvelope }
  | { ok: false; workspace: string | undefined; content: unknown; message: string };

const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Returns one envelope in the lines format. `operations` are JSON texts as
 * `JSON.stringify` writes them and `persons` their person hashes, in order.
 */
export function encodeLinesEnvelope(
  workspace: string,
  acceptedAt: number,
  requestId: string,
  operations: readonly string[],
  persons: readonly number[],
): string {
  if (operations.length === 0 || operations.length !== persons.length) {
    throw new Error(
      `an envelope needs one person hash per operation and at least one operation, got ${operations.length} operations and ${persons.length} hashes`,
    );
  }
  const lines = operations.join('\n');
  return (
    `{"count":${operations.length},"bytes":${Buffer.byteLength(lines, 'utf8')},` +
    `"workspace":${JSON.stringify(workspace)},"acceptedAt":${acceptedAt},` +
    `"requestId":${JSON.stringify(requestId)},"persons":[${persons.join(',')}]}\n${lines}`
  );
}

/** Joins envelopes in the lines format, in order, into the value of one message. */
export function joinLinesEnvelopes(values: readonly string[]): string {
  return values.join('\n');
}

/**
 * Decodes a message of either format. An envelope whose lines do not match
 * its count fails alone. A header that cannot be read, or a byte count that
 * does not end at a newline, ends decoding: the rest of the message becomes
 * one failed entry, after the envelopes decoded before it.
 */
export function decodeOperationsMessage(value: Buffer): DecodedEnvelope[] {
  if (value.length === 0) {
    return [failed(undefined, '', 'message is empty')];
  }
  const decoded: DecodedEnvelope[] = [];
  let position = 0;
  while (position < value.length) {
    const headerEnd = lineEnd(value, position);
    const parsed = parseJson(value.toString('utf8', position, headerEnd));
    if (position === 0 && !isLinesHeader(parsed)) {
      // Not the lines format: the whole message is JSON, or it is invalid.
      return headerEnd === value.length && parsed !== undefined
        ? decodeJsonValue(parsed)
        : decodeJsonMessage(value);
    }
    if (!isLinesHeader(parsed)) {
      decoded.push(
        rest(value, position, undefined, 'text after an envelope is not an envelope header'),
      );
      return decoded;
    }
    const header = checkHeader(parsed);
    if (typeof header === 'string') {
      decoded.push(rest(value, position, workspaceOf(parsed), header));
      return decoded;
    }
    const start = headerEnd + 1;
    const end = start + header.bytes;
    const overrun = boundaryProblem(value, start, header.bytes);
    if (overrun !== undefined) {
      decoded.push(rest(value, position, header.workspace, overrun));
      return decoded;
    }
    const operations = splitLines(value, start, end);
    if (operations.length === header.count) {
      const { workspace, acceptedAt, requestId, persons } = header;
      const envelope = { workspace, acceptedAt, requestId, operations, persons };
      decoded.push({ ok: true, format: 'lines', envelope });
    } else {
      const message = `envelope header gives ${header.count} operations, but its ${header.bytes} bytes contain ${operations.length} lines`;
      decoded.push(failed(header.workspace, value.toString('utf8', position, end), message));
    }
    position = end + 1;
  }
  return decoded;
}

/**
 * Checks what can be checked of an operation in the lines format without
 * parsing it: its size against `limits.maxOperationBytes`, and that it is
 * braced as a JSON object. The gateway checked the rest before writing it.
 */
export function checkOperationLine(text: Buffer, limits: TrackLimits): Parsed<Buffer> {
  if (text.length > limits.maxOperationBytes) {
    return tooLarge('', 'operation', text.length, limits.maxOperationBytes);
  }
  if (text[0] !== OPEN_BRACE || text[text.length - 1] !== CLOSE_BRACE) {
    return fail('', 'invalid_type', 'operation line is not a JSON object');
  }
  return ok(text);
}

/**
 * Returns the envelopes of a message with every operation parsed, for tests
 * and tools that read the topic; the batcher uses `decodeOperationsMessage`.
 * Throws on an invalid message.
 */
export function parseOperationsMessage(value: Buffer | string): OperationEnvelope[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return decodeOperationsMessage(bytes).map((entry) => {
    if (!entry.ok) {
      throw new Error(`operations message is invalid: ${entry.message}`);
    }
    if (entry.format === 'json') {
      return entry.envelope;
    }
    const { workspace, acceptedAt, requestId, operations } = entry.envelope;
    return {
      workspace,
      acceptedAt,
      requestId,
      operations: operations.map((text) => JSON.parse(text.toString('utf8')) as never),
    };
  });
}

interface LinesHeader {
  count: number;
  bytes: number;
  workspace: string;
  acceptedAt: number;
  requestId: string;
  persons: number[];
}

/** Returns whether `value` is a lines header: it has a count, where a JSON envelope has an `operations` array. */
function isLinesHeader(value: unknown): value is Partial<LinesHeader> & { count: unknown } {
  return isPlainObject(value) && 'count' in value && !('operations' in value);
}

/** Returns the header, or what is wrong with it. */
function checkHeader(header: Partial<LinesHeader>): LinesHeader | string {
  const { count, bytes, workspace, acceptedAt, requestId, persons } = header;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
    return 'envelope header needs a positive whole count';
  }
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    return 'envelope header needs a whole byte count';
  }
  if (typeof workspace !== 'string' || workspace === '' || typeof acceptedAt !== 'number') {
    return 'envelope header lacks a workspace or acceptedAt';
  }
  if (typeof requestId !== 'string') {
    return 'envelope header lacks a requestId';
  }
  if (
    !Array.isArray(persons) ||
    persons.length !== count ||
    !persons.every((hash) => Number.isInteger(hash) && hash >= 0 && hash <= 0xffffffff)
  ) {
    return 'envelope header needs one 32-bit person hash per operation';
  }
  return { count, bytes, workspace, acceptedAt, requestId, persons };
}

function decodeJsonMessage(value: Buffer): DecodedEnvelope[] {
  const text = value.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return [failed(undefined, text, `message is not valid JSON: ${(error as Error).message}`)];
  }
  return decodeJsonValue(parsed);
}

function decodeJsonValue(parsed: unknown): DecodedEnvelope[] {
  if (!Array.isArray(parsed)) {
    return [decodeJsonEnvelope(parsed)];
  }
  if (parsed.length === 0) {
    return [failed(undefined, parsed, 'message is an empty array of envelopes')];
  }
  return parsed.map(decodeJsonEnvelope);
}

function decodeJsonEnvelope(value: unknown): DecodedEnvelope {
  if (!isPlainObject(value)) {
    return failed(undefined, value, 'envelope is not a JSON object');
  }
  const { workspace, acceptedAt, operations, requestId } = value as Partial<OperationEnvelope>;
  if (typeof workspace !== 'string' || workspace === '' || typeof acceptedAt !== 'number') {
    return failed(undefined, value, 'envelope lacks a workspace or acceptedAt');
  }
  if (!Array.isArray(operations) || operations.length === 0) {
    return failed(workspace, value, 'envelope has no operations array');
  }
  return {
    ok: true,
    format: 'json',
    envelope: {
      workspace,
      acceptedAt,
      requestId: typeof requestId === 'string' ? requestId : '',
      operations,
    },
  };
}

/** Returns why `bytes` from `start` do not end at the message's end or a newline, if they do not. */
function boundaryProblem(value: Buffer, start: number, bytes: number): string | undefined {
  const end = start + bytes;
  if (end > value.length) {
    return `envelope header gives ${bytes} bytes of operations, but only ${value.length - start} follow it`;
  }
  if (end < value.length && value[end] !== NEWLINE) {
    return `envelope header gives ${bytes} bytes of operations, but no newline follows them`;
  }
  return undefined;
}

/** Returns the lines of `value` from `start` to `end`, as views. */
function splitLines(value: Buffer, start: number, end: number): Buffer[] {
  const lines: Buffer[] = [];
  let from = start;
  for (;;) {
    const newline = value.indexOf(NEWLINE, from);
    if (newline === -1 || newline >= end) {
      lines.push(value.subarray(from, end));
      return lines;
    }
    lines.push(value.subarray(from, newline));
    from = newline + 1;
  }
}

function lineEnd(value: Buffer, from: number): number {
  const end = value.indexOf(NEWLINE, from);
  return end === -1 ? value.length : end;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function workspaceOf(header: Partial<LinesHeader>): string | undefined {
  return typeof header.workspace === 'string' && header.workspace !== ''
    ? header.workspace
    : undefined;
}

/** Returns the message from `position` on as one failed entry, kept as text for the dead-letter topic. */
function rest(
  value: Buffer,
  position: number,
  workspace: string | undefined,
  message: string,
): DecodedEnvelope {
  return failed(workspace, value.toString('utf8', position), message);
}

function failed(workspace: string | undefined, content: unknown, message: string): DecodedEnvelope {
  return { ok: false, workspace, content, message };
}
