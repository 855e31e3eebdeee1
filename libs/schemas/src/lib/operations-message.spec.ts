import fc from 'fast-check';
import { DEFAULT_TRACK_LIMITS } from './limits';
import type { OperationEnvelope } from './operation';
import {
  checkOperationLine,
  decodeOperationsMessage,
  encodeLinesEnvelope,
  joinLinesEnvelopes,
  parseOperationsMessage,
  type DecodedEnvelope,
} from './operations-message';

const IDENTIFY = { type: 'person', action: 'identify', identifiers: { id: '1' } };
const EVENT = { type: 'person', action: 'event', identifiers: { id: '2' }, name: 'café ☕' };

function linesOf(
  operations: object[],
  workspace = 'site-1',
  requestId = 'request-1',
  acceptedAt = 1_764_900_000_000,
): string {
  const texts = operations.map((operation) => JSON.stringify(operation));
  return encodeLinesEnvelope(
    workspace,
    acceptedAt,
    requestId,
    texts,
    texts.map((_, index) => index + 7),
  );
}

function decode(text: string): DecodedEnvelope[] {
  return decodeOperationsMessage(Buffer.from(text, 'utf8'));
}

/** Failed entries, as workspace, message and content. */
function failures(decoded: DecodedEnvelope[]) {
  return decoded.flatMap((entry) =>
    entry.ok
      ? []
      : [{ workspace: entry.workspace, message: entry.message, content: entry.content }],
  );
}

describe('operations message, lines format', () => {
  it('decodes an envelope with its operations as written', () => {
    const decoded = decode(linesOf([IDENTIFY, EVENT]));

    expect(decoded).toHaveLength(1);
    const entry = decoded[0];
    if (!entry?.ok || entry.format !== 'lines') {
      throw new Error(`expected a lines envelope, got ${JSON.stringify(entry)}`);
    }
    const { workspace, acceptedAt, requestId, operations, persons } = entry.envelope;
    expect({ workspace, acceptedAt, requestId, persons }).toEqual({
      workspace: 'site-1',
      acceptedAt: 1_764_900_000_000,
      requestId: 'request-1',
      persons: [7, 8],
    });
    expect(operations.map((text) => text.toString('utf8'))).toEqual([
      JSON.stringify(IDENTIFY),
      JSON.stringify(EVENT),
    ]);
  });

  it('writes one line per operation after the header', () => {
    const lines = linesOf([IDENTIFY, EVENT]).split('\n');

    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      count: 2,
      bytes: Buffer.byteLength(`${JSON.stringify(IDENTIFY)}\n${JSON.stringify(EVENT)}`),
      workspace: 'site-1',
      acceptedAt: 1_764_900_000_000,
      requestId: 'request-1',
      persons: [7, 8],
    });
  });

  it('decodes joined envelopes in order', () => {
    const value = joinLinesEnvelopes([
      linesOf([IDENTIFY], 'site-1', 'a'),
      linesOf([EVENT, IDENTIFY], 'site-2', 'b'),
      linesOf([EVENT], 'site-1', 'c'),
    ]);

    expect(parseOperationsMessage(value)).toEqual([
      {
        workspace: 'site-1',
        acceptedAt: 1_764_900_000_000,
        requestId: 'a',
        operations: [IDENTIFY],
      },
      {
        workspace: 'site-2',
        acceptedAt: 1_764_900_000_000,
        requestId: 'b',
        operations: [EVENT, IDENTIFY],
      },
      { workspace: 'site-1', acceptedAt: 1_764_900_000_000, requestId: 'c', operations: [EVENT] },
    ]);
  });

  it('keeps each envelope its person hashes', () => {
    const value = joinLinesEnvelopes([
      encodeLinesEnvelope('site-1', 1, 'a', ['{"n":1}'], [11]),
      encodeLinesEnvelope('site-1', 1, 'b', ['{"n":2}', '{"n":3}'], [22, 33]),
    ]);

    const persons = decode(value).map((entry) =>
      entry.ok && entry.format === 'lines' ? entry.envelope.persons : undefined,
    );
    expect(persons).toEqual([[11], [22, 33]]);
  });

  it('round-trips any JSON operations, newlines and multi-byte text included', () => {
    const operation = fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue(), {
      maxKeys: 5,
    });
    const envelope = fc.record({
      workspace: fc.string({ unit: 'grapheme', minLength: 1 }),
      requestId: fc.string({ unit: 'grapheme' }),
      operations: fc.array(operation, { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(envelope, { minLength: 1, maxLength: 4 }), (envelopes) => {
        const value = joinLinesEnvelopes(
          envelopes.map(({ workspace, requestId, operations }) =>
            linesOf(operations, workspace, requestId, 5),
          ),
        );
        const expected = envelopes.map(({ workspace, requestId, operations }) => ({
          workspace,
          acceptedAt: 5,
          requestId,
          // What JSON.parse gives back, such as 0 for -0.
          operations: operations.map((item) => JSON.parse(JSON.stringify(item)) as unknown),
        }));
        expect(parseOperationsMessage(value)).toEqual(expected);
      }),
    );
  });

  it('rejects a person hash count that differs from the operations', () => {
    expect(() => encodeLinesEnvelope('site-1', 1, 'r', ['{}', '{}'], [1])).toThrow(
      /one person hash per operation/,
    );
    expect(() => encodeLinesEnvelope('site-1', 1, 'r', [], [])).toThrow(/at least one operation/);
  });

  it('keeps envelopes before a cut one and fails the rest', () => {
    const good = linesOf([IDENTIFY]);
    const cut = linesOf([IDENTIFY, EVENT], 'site-2').split('\n').slice(0, 2).join('\n');
    const decoded = decode(joinLinesEnvelopes([good, cut]));
    const lineBytes = Buffer.byteLength(JSON.stringify(IDENTIFY));
    const headerBytes = Buffer.byteLength(`${JSON.stringify(IDENTIFY)}\n${JSON.stringify(EVENT)}`);

    expect(decoded.map((entry) => entry.ok)).toEqual([true, false]);
    expect(failures(decoded)).toEqual([
      {
        workspace: 'site-2',
        message: `envelope header gives ${headerBytes} bytes of operations, but only ${lineBytes} follow it`,
        content: cut,
      },
    ]);
  });

  it('fails only the envelope whose count differs from its lines', () => {
    const header = (count: number, lines: string[]) =>
      JSON.stringify({
        count,
        bytes: Buffer.byteLength(lines.join('\n')),
        workspace: 'site-2',
        acceptedAt: 1,
        requestId: 'r',
        persons: Array.from({ length: count }, () => 1),
      });
    const two = [JSON.stringify(IDENTIFY), JSON.stringify(EVENT)];
    const tooMany = `${header(3, two)}\n${two.join('\n')}`;
    const tooFew = `${header(1, two)}\n${two.join('\n')}`;
    const decoded = decode(
      joinLinesEnvelopes([
        linesOf([IDENTIFY]),
        tooMany,
        linesOf([EVENT]),
        tooFew,
        linesOf([EVENT]),
      ]),
    );

    expect(decoded.map((entry) => entry.ok)).toEqual([true, false, true, false, true]);
    expect(failures(decoded)).toEqual([
      {
        workspace: 'site-2',
        message: `envelope header gives 3 operations, but its ${Buffer.byteLength(two.join('\n'))} bytes contain 2 lines`,
        content: tooMany,
      },
      {
        workspace: 'site-2',
        message: `envelope header gives 1 operations, but its ${Buffer.byteLength(two.join('\n'))} bytes contain 2 lines`,
        content: tooFew,
      },
    ]);
  });

  it('fails the rest when the byte count ends inside a line', () => {
    const text = JSON.stringify(IDENTIFY);
    const header = {
      count: 1,
      bytes: 5,
      workspace: 's',
      acceptedAt: 1,
      requestId: 'r',
      persons: [1],
    };
    const value = `${linesOf([EVENT])}\n${JSON.stringify(header)}\n${text}`;
    const decoded = decode(value);

    expect(decoded.map((entry) => entry.ok)).toEqual([true, false]);
    expect(failures(decoded)[0]?.message).toBe(
      'envelope header gives 5 bytes of operations, but no newline follows them',
    );
  });

  it('fails the rest after a bad first header', () => {
    const bad = JSON.stringify({ count: 1, bytes: 2, workspace: 's', acceptedAt: 1, persons: [1] });
    const value = joinLinesEnvelopes([`${bad}\n{}`, linesOf([EVENT])]);
    const decoded = decode(value);

    expect(failures(decoded)).toEqual([
      { workspace: 's', message: 'envelope header lacks a requestId', content: value },
    ]);
  });

  it('accepts one trailing newline', () => {
    const decoded = decode(`${linesOf([IDENTIFY])}\n`);

    expect(decoded.map((entry) => entry.ok)).toEqual([true]);
  });

  it('fails what follows an empty line between envelopes', () => {
    const decoded = decode(`${linesOf([IDENTIFY])}\n\n${linesOf([EVENT])}`);

    expect(decoded.map((entry) => entry.ok)).toEqual([true, false]);
    expect(failures(decoded)[0]?.message).toBe('text after an envelope is not an envelope header');
  });

  it('fails what follows an envelope when it is not a header', () => {
    const good = linesOf([IDENTIFY]);
    const decoded = decode(`${good}\n${JSON.stringify(EVENT)}`);

    expect(decoded.map((entry) => entry.ok)).toEqual([true, false]);
    expect(failures(decoded)).toEqual([
      {
        workspace: undefined,
        message: 'text after an envelope is not an envelope header',
        content: JSON.stringify(EVENT),
      },
    ]);
  });

  const LINE = JSON.stringify(IDENTIFY);
  const BYTES = Buffer.byteLength(LINE);
  const HEADER = {
    count: 1,
    bytes: BYTES,
    workspace: 's',
    acceptedAt: 1,
    requestId: 'r',
    persons: [1],
  };

  it.each([
    [{ ...HEADER, count: 0, persons: [] }, 'positive whole count'],
    [{ ...HEADER, count: 1.5 }, 'positive whole count'],
    [{ ...HEADER, bytes: undefined }, 'whole byte count'],
    [{ ...HEADER, bytes: -1 }, 'whole byte count'],
    [{ ...HEADER, workspace: '' }, 'workspace'],
    [{ ...HEADER, acceptedAt: '1' }, 'acceptedAt'],
    [{ ...HEADER, requestId: undefined }, 'requestId'],
    [{ ...HEADER, persons: [] }, 'person hash'],
    [{ ...HEADER, persons: [-1] }, 'person hash'],
    [{ ...HEADER, persons: [2 ** 32] }, 'person hash'],
  ])('fails the header %j', (header, problem) => {
    const text = `${JSON.stringify(header)}\n${LINE}`;
    const [entry, ...others] = decode(text);

    expect(others).toEqual([]);
    expect(entry?.ok).toBe(false);
    expect(failures([entry as DecodedEnvelope])[0]?.message).toContain(problem);
    expect(failures([entry as DecodedEnvelope])[0]?.content).toBe(text);
  });

  it('passes an empty line on for the batcher to reject', () => {
    const header = { ...HEADER, count: 2, bytes: BYTES + 1, persons: [1, 2] };
    const [entry] = decode(`${JSON.stringify(header)}\n\n${LINE}`);

    if (!entry?.ok || entry.format !== 'lines') {
      throw new Error(`expected a lines envelope, got ${JSON.stringify(entry)}`);
    }
    expect(entry.envelope.operations.map((text) => text.toString('utf8'))).toEqual(['', LINE]);
  });
});

describe('operations message, JSON format', () => {
  const envelope: OperationEnvelope = {
    workspace: 'site-1',
    acceptedAt: 3,
    requestId: 'r',
    operations: [IDENTIFY as never],
  };

  it.each([
    ['an envelope', JSON.stringify(envelope), [envelope]],
    ['an array of envelopes', JSON.stringify([envelope, envelope]), [envelope, envelope]],
    ['an envelope across lines', JSON.stringify(envelope, undefined, 2), [envelope]],
  ])('decodes %s', (_, text, expected) => {
    const decoded = decode(text);

    expect(decoded.map((entry) => entry.ok && entry.format)).toEqual(expected.map(() => 'json'));
    expect(parseOperationsMessage(text)).toEqual(expected);
  });

  it('fills in a missing requestId', () => {
    const text = '{"workspace":"site-1","acceptedAt":3,"operations":[{}]}';
    expect(parseOperationsMessage(text)).toEqual([
      { workspace: 'site-1', acceptedAt: 3, requestId: '', operations: [{}] },
    ]);
  });

  it.each([
    ['', 'message is empty'],
    ['{"workspace":', 'message is not valid JSON'],
    ['[]', 'message is an empty array of envelopes'],
    ['"text"', 'envelope is not a JSON object'],
    ['{"operations":[{}]}', 'envelope lacks a workspace or acceptedAt'],
    ['{"workspace":"s","acceptedAt":1,"operations":[]}', 'envelope has no operations array'],
  ])('fails %j', (text, message) => {
    const decoded = decode(text);

    expect(decoded).toHaveLength(1);
    expect(failures(decoded)[0]?.message).toContain(message);
    expect(() => parseOperationsMessage(text)).toThrow(message);
  });

  it('fails only the bad envelopes of an array', () => {
    const decoded = decode(JSON.stringify([envelope, 7, envelope]));

    expect(decoded.map((entry) => entry.ok)).toEqual([true, false, true]);
  });
});

describe('checkOperationLine', () => {
  const limits = { ...DEFAULT_TRACK_LIMITS, maxOperationBytes: 40 };

  it('passes a braced line of exactly the limit', () => {
    const text = Buffer.from(JSON.stringify(IDENTIFY).slice(0, 39) + '}', 'utf8');
    expect(checkOperationLine(text, limits)).toEqual({ ok: true, value: text });
  });

  it('counts bytes, not characters', () => {
    const text = Buffer.from(`{"n":"${'€'.repeat(11)}"}`, 'utf8');
    expect(text.length).toBe(41);
    expect(checkOperationLine(text, limits)).toEqual({
      ok: false,
      error: {
        field: '',
        reason: 'too_large',
        message: 'operation is 41 bytes, over the limit of 40 bytes',
      },
    });
  });

  it.each(['', '[]', '{"a":1', '"a"}'])('rejects %j as not an object', (text) => {
    expect(checkOperationLine(Buffer.from(text, 'utf8'), limits)).toEqual({
      ok: false,
      error: { field: '', reason: 'invalid_type', message: 'operation line is not a JSON object' },
    });
  });
});
