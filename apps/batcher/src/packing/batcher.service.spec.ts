import type { Consumer, EachBatchPayload, Message } from 'kafkajs';
import {
  decodePersonHashes,
  encodeLinesEnvelope,
  hashPerson,
  Headers,
  joinLinesEnvelopes,
  type DeadLetter,
} from '@cio-pipeline/schemas';
import { readBatcherConfig } from '../config/batcher-config';
import type { OrderedWriter } from '../output/ordered-writer';
import { BatcherService } from './batcher.service';
import { STABLE_WINDOWS } from './lanes';

const TOPIC = 'operations';

/** Records writes and calls their callbacks only when released, as Kafka acknowledges. */
class HeldWriter {
  readonly written: { topic: string; message: Message }[] = [];
  private callbacks: (() => void)[] = [];
  readonly pendingBytes = 0;

  write(topic: string, message: Message, _bytes: number, onWritten: () => void): void {
    this.written.push({ topic, message });
    this.callbacks.push(onWritten);
  }

  release(): void {
    const callbacks = this.callbacks;
    this.callbacks = [];
    callbacks.forEach((onWritten) => {
      onWritten();
    });
  }

  idle(): Promise<void> {
    this.release();
    return Promise.resolve();
  }

  of(topic: string): Message[] {
    return this.written.filter((entry) => entry.topic === topic).map((entry) => entry.message);
  }
}

function event(person: string, name: string): string {
  return JSON.stringify({ type: 'person', action: 'event', identifiers: { id: person }, name });
}

const MERGE = JSON.stringify({
  type: 'person',
  action: 'merge',
  primary: { id: 'a' },
  secondary: { email: 'B@example.com' },
});

function lines(operations: string[], persons: string[], requestId = 'r'): string {
  return encodeLinesEnvelope(
    'site-1',
    1_000,
    requestId,
    operations,
    persons.map((person) => hashPerson(`id:${person}`)),
  );
}

function payloadOf(values: string[], resolveOffset: jest.Mock): EachBatchPayload {
  return {
    batch: {
      topic: TOPIC,
      partition: 0,
      messages: values.map((value, offset) => ({
        offset: String(offset),
        key: null,
        value: Buffer.from(value, 'utf8'),
        timestamp: '0',
        attributes: 0,
        headers: {},
      })),
    },
    isRunning: () => true,
    isStale: () => false,
    heartbeat: () => Promise.resolve(),
    resolveOffset,
  } as unknown as EachBatchPayload;
}

/** Returns a payload of one message with `value`, at `offset` of `partition`. */
function payloadAt(value: string, offset: number, partition = 0): EachBatchPayload {
  const payload = payloadOf([value], jest.fn());
  (payload.batch as { partition: number }).partition = partition;
  const [message] = payload.batch.messages;
  if (message !== undefined) {
    message.offset = String(offset);
  }
  return payload;
}

describe('BatcherService', () => {
  const config = readBatcherConfig({ KAFKA_BROKERS: '127.0.0.1:9092', BATCHER_LINGER_MS: '60000' });
  const batchesTopic = config.kafka.topics.batches.name;
  const deadLetterTopic = config.kafka.topics.deadLetters.name;
  let writer: HeldWriter;
  let service: BatcherService;
  let commitOffsets: jest.Mock;
  let consumer: Consumer;

  beforeEach(() => {
    writer = new HeldWriter();
    service = new BatcherService(config, writer as unknown as OrderedWriter);
    commitOffsets = jest.fn(() => Promise.resolve());
    consumer = { commitOffsets } as unknown as Consumer;
  });

  afterEach(async () => {
    await service.flushAll();
  });

  /** Lets the commit that a completed write schedules with setImmediate run. */
  async function settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }

  function deadLetters(): DeadLetter[] {
    return writer
      .of(deadLetterTopic)
      .map((message) => JSON.parse(String(message.value)) as DeadLetter);
  }

  it('packs joined envelopes in order with their person hashes', async () => {
    const value = joinLinesEnvelopes([
      lines([event('a', 'one')], ['a'], 'first'),
      lines([event('b', 'two'), event('a', 'three')], ['b', 'a'], 'second'),
    ]);

    await service.consume(payloadOf([value], jest.fn()), consumer);
    await service.flushAll();

    const [batch, ...others] = writer.of(batchesTopic);
    expect(others).toEqual([]);
    const body = JSON.parse(String(batch?.value)) as { batch: { name: string }[] };
    expect(body.batch.map((operation) => operation.name)).toEqual(['one', 'two', 'three']);
    const hashes = decodePersonHashes(String(batch?.headers?.[Headers.personHashes]));
    expect([...hashes].sort()).toEqual([hashPerson('id:a'), hashPerson('id:b')].sort());
    expect(batch?.headers?.[Headers.operationCount]).toBe('3');
  });

  it('commits a message only after all its parts are written', async () => {
    const oversized = event('a', 'n'.repeat(config.maxOperationBytes));
    const cut = lines([event('c', 'five'), event('c', 'six')], ['c', 'c'])
      .split('\n')
      .slice(0, 2)
      .join('\n');
    const linesMessage = joinLinesEnvelopes([
      lines([event('a', 'one')], ['a']),
      lines([oversized, '{"not":"closed"', event('b', 'two')], ['a', 'b', 'b']),
      cut,
    ]);
    const jsonMessage = JSON.stringify({
      workspace: 'site-1',
      acceptedAt: 1_000,
      requestId: 'json',
      operations: [JSON.parse(event('d', 'three')), { type: 'person', action: 'fly' }],
    });
    const resolveOffset = jest.fn();

    await service.consume(
      payloadOf([linesMessage, jsonMessage, 'not JSON'], resolveOffset),
      consumer,
    );
    writer.release();
    await settle();

    // Dead letters are written, but both messages still have operations in
    // the open batch, so no commit moves past the first message.
    const committed = () =>
      commitOffsets.mock.calls.map(([offsets]) => (offsets as { offset: string }[])[0]?.offset);
    expect(resolveOffset.mock.calls).toEqual([['0'], ['1'], ['2']]);
    expect(committed().filter((offset) => offset !== '0')).toEqual([]);
    expect(deadLetters().map((letter) => letter.error.reason)).toEqual([
      'too_large',
      'invalid_type',
      'invalid_message',
      'invalid_value',
      'invalid_message',
    ]);

    await service.flushAll();

    expect(commitOffsets).toHaveBeenLastCalledWith([{ topic: TOPIC, partition: 0, offset: '3' }]);
    const body = JSON.parse(String(writer.of(batchesTopic)[0]?.value)) as {
      batch: { name: string }[];
    };
    expect(body.batch.map((operation) => operation.name)).toEqual(['one', 'two', 'three']);
  });

  it('commits a read-again offset only by its own parts', async () => {
    const small = readBatcherConfig({
      KAFKA_BROKERS: '127.0.0.1:9092',
      BATCHER_LINGER_MS: '60000',
      CIO_MAX_BATCH_BYTES: '2048',
      CIO_MAX_OPERATION_BYTES: '256',
    });
    const service = new BatcherService(small, writer as unknown as OrderedWriter);
    const envelope = (workspace: string, names: string[]) =>
      encodeLinesEnvelope(
        workspace,
        1_000,
        'r',
        names.map((name) => event('a', name)),
        names.map(() => hashPerson('id:a')),
      );
    const first = joinLinesEnvelopes([envelope('site-1', ['one']), envelope('site-2', ['two'])]);
    const overflow = envelope(
      'site-1',
      Array.from({ length: 40 }, (_, i) => `more-${i}`),
    );
    const messageAt = (offset: number, value: string) => payloadAt(value, offset);

    // kafkajs reads offset 0 again, as after a rebalance, before anything is written.
    await service.consume(messageAt(0, first), consumer);
    await service.consume(messageAt(0, first), consumer);
    // site-1's batch fills and is written; site-2's, with both reads of `two`, is not.
    await service.consume(messageAt(1, overflow), consumer);
    writer.release();
    await settle();

    const committed = commitOffsets.mock.calls.map(
      ([offsets]) => (offsets as { offset: string }[])[0]?.offset,
    );
    expect(writer.of(batchesTopic).length).toBeGreaterThan(0);
    expect(committed.filter((offset) => offset !== '0')).toEqual([]);
    await service.flushAll();
  });

  it.each([
    ['lines', lines([MERGE], ['a'])],
    [
      'JSON',
      JSON.stringify({ workspace: 'site-1', acceptedAt: 1, operations: [JSON.parse(MERGE)] }),
    ],
  ])('carries both people of a merge in the %s format', async (_, value) => {
    await service.consume(payloadOf([value], jest.fn()), consumer);
    await service.flushAll();

    const [batch] = writer.of(batchesTopic);
    const hashes = decodePersonHashes(String(batch?.headers?.[Headers.personHashes]));
    expect([...hashes].sort()).toEqual(
      [hashPerson('id:a'), hashPerson('email:b@example.com')].sort(),
    );
  });

  it('commits one request at a time', async () => {
    const heldCommits: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    commitOffsets.mockImplementation(() => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<void>((resolve) => {
        heldCommits.push(() => {
          inFlight -= 1;
          resolve();
        });
      });
    });
    const releaseCommits = async () => {
      heldCommits.splice(0).forEach((release) => {
        release();
      });
      await settle();
    };
    const messageAt = (partition: number, offset: number, person: string) =>
      payloadAt(lines([event(person, 'e')], [person]), offset, partition);

    await service.consume(messageAt(0, 0, 'a'), consumer);
    await service.consume(messageAt(1, 0, 'b'), consumer);
    const first = service.flushAll();
    await settle();

    // Both partitions go in one request.
    expect(commitOffsets.mock.calls).toEqual([
      [
        [
          { topic: TOPIC, partition: 0, offset: '1' },
          { topic: TOPIC, partition: 1, offset: '1' },
        ],
      ],
    ]);

    await service.consume(messageAt(0, 1, 'a'), consumer);
    const second = service.flushAll();
    await settle();

    // The second flush waits for the first commit instead of sending its own.
    expect(commitOffsets).toHaveBeenCalledTimes(1);

    await releaseCommits();

    expect(commitOffsets).toHaveBeenCalledTimes(2);
    expect(commitOffsets).toHaveBeenLastCalledWith([{ topic: TOPIC, partition: 0, offset: '2' }]);

    await releaseCommits();
    await Promise.all([first, second]);

    expect(commitOffsets).toHaveBeenCalledTimes(2);
    expect(maxInFlight).toBe(1);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8])(
    'commits a flush %p microtasks after a commit ends',
    async (ticks) => {
      let release: (() => void) | undefined;
      commitOffsets.mockImplementationOnce(
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      );
      const messageAt = (offset: number) => payloadAt(lines([event('a', 'e')], ['a']), offset);

      await service.consume(messageAt(0), consumer);
      const first = service.flushAll();
      await settle();
      await service.consume(messageAt(1), consumer);
      release?.();
      for (let tick = 0; tick < ticks; tick++) {
        await Promise.resolve();
      }
      await Promise.all([first, service.flushAll()]);

      expect(commitOffsets).toHaveBeenLastCalledWith([{ topic: TOPIC, partition: 0, offset: '2' }]);
    },
  );

  it('retries a failed final commit', async () => {
    commitOffsets.mockImplementationOnce(() => Promise.reject(new Error('coordinator moved')));
    await service.consume(payloadOf([lines([event('a', 'e')], ['a'])], jest.fn()), consumer);

    await service.flushAll();

    expect(commitOffsets).toHaveBeenCalledTimes(2);
    expect(commitOffsets).toHaveBeenLastCalledWith([{ topic: TOPIC, partition: 0, offset: '1' }]);

    await service.flushAll();

    expect(commitOffsets).toHaveBeenCalledTimes(2);
  });

  it('gives up on the final commit after three retries', async () => {
    commitOffsets.mockImplementation(() => Promise.reject(new Error('rebalance in progress')));
    await service.consume(payloadOf([lines([event('a', 'e')], ['a'])], jest.fn()), consumer);

    await service.flushAll();

    // The commit that the written batch scheduled, flushAll's own, and three retries.
    expect(commitOffsets).toHaveBeenCalledTimes(5);
    commitOffsets.mockImplementation(() => Promise.resolve());
  });

  describe('with a failed commit while running', () => {
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    });

    afterEach(() => {
      jest.useRealTimers();
    });

    /** Consumes one line that is dead-lettered, so that its offset becomes committable. */
    async function completeOneOffset(offset = 0): Promise<void> {
      await service.consume(payloadAt(lines(['{"not":"closed"'], ['a']), offset), consumer);
      writer.release();
      await settle();
    }

    it('retries the commit after 1 s', async () => {
      commitOffsets.mockImplementationOnce(() => Promise.reject(new Error('coordinator moved')));
      await completeOneOffset();
      expect(commitOffsets).toHaveBeenCalledTimes(1);

      await jest.advanceTimersByTimeAsync(999);
      expect(commitOffsets).toHaveBeenCalledTimes(1);

      await jest.advanceTimersByTimeAsync(1);
      expect(commitOffsets).toHaveBeenCalledTimes(2);
      expect(commitOffsets).toHaveBeenLastCalledWith([{ topic: TOPIC, partition: 0, offset: '1' }]);

      await jest.advanceTimersByTimeAsync(60_000);
      expect(commitOffsets).toHaveBeenCalledTimes(2);
    });

    it('doubles the wait up to 30 s', async () => {
      commitOffsets.mockImplementation(() => Promise.reject(new Error('rebalance in progress')));
      await completeOneOffset();
      const waits = [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000];

      for (const [index, wait] of waits.entries()) {
        await jest.advanceTimersByTimeAsync(wait - 1);
        expect(commitOffsets).toHaveBeenCalledTimes(index + 1);
        await jest.advanceTimersByTimeAsync(1);
        expect(commitOffsets).toHaveBeenCalledTimes(index + 2);
      }
      commitOffsets.mockImplementation(() => Promise.resolve());
    });

    it('waits 1 s again after a success', async () => {
      const fail = () => Promise.reject(new Error('coordinator moved'));
      commitOffsets.mockImplementationOnce(fail).mockImplementationOnce(fail);
      await completeOneOffset();
      await jest.advanceTimersByTimeAsync(1000);
      await jest.advanceTimersByTimeAsync(2000);
      expect(commitOffsets).toHaveBeenCalledTimes(3);

      commitOffsets.mockImplementationOnce(fail);
      await completeOneOffset(1);
      expect(commitOffsets).toHaveBeenCalledTimes(4);

      await jest.advanceTimersByTimeAsync(999);
      expect(commitOffsets).toHaveBeenCalledTimes(4);
      await jest.advanceTimersByTimeAsync(1);
      expect(commitOffsets).toHaveBeenCalledTimes(5);
    });

    it('leaves no retry after overlapping flushes', async () => {
      commitOffsets.mockImplementation(() => Promise.reject(new Error('rebalance in progress')));
      await completeOneOffset();

      // The second flush retries its last commit after the first flush has ended.
      const first = service.flushAll();
      await jest.advanceTimersByTimeAsync(300);
      const second = service.flushAll();
      await jest.advanceTimersByTimeAsync(5_000);
      await Promise.all([first, second]);
      const calls = commitOffsets.mock.calls.length;
      await jest.advanceTimersByTimeAsync(60_000);

      expect(commitOffsets).toHaveBeenCalledTimes(calls);
      commitOffsets.mockImplementation(() => Promise.resolve());
    });

    it('stops retrying once a later commit succeeds', async () => {
      commitOffsets.mockImplementationOnce(() => Promise.reject(new Error('coordinator moved')));
      await completeOneOffset();

      // Offset 0 again, so the tracker starts anew and commits offset 1 a second time.
      await completeOneOffset();
      expect(commitOffsets).toHaveBeenCalledTimes(2);

      await jest.advanceTimersByTimeAsync(60_000);
      expect(commitOffsets).toHaveBeenCalledTimes(2);
    });
  });

  it('dead-letters a rejected line as JSON when it parses', async () => {
    const oversized = event('a', 'n'.repeat(config.maxOperationBytes));
    const value = lines([oversized, '{"not":"closed"'], ['a', 'a']);

    await service.consume(payloadOf([value], jest.fn()), consumer);
    writer.release();

    const [tooLarge, notClosed] = deadLetters();
    expect(tooLarge?.operation).toEqual(JSON.parse(oversized));
    expect(notClosed?.operation).toBe('{"not":"closed"');
  });
});

describe('BatcherService lanes', () => {
  const config = readBatcherConfig({
    KAFKA_BROKERS: '127.0.0.1:9092',
    BATCHER_LINGER_MS: '100',
    BATCHER_MAX_LANES: '4',
    CIO_MAX_BATCH_BYTES: '2048',
    CIO_MAX_OPERATION_BYTES: '256',
  });
  const batchesTopic = config.kafka.topics.batches.name;

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('keeps each person in order while lanes change', async () => {
    const writer = new HeldWriter();
    const service = new BatcherService(config, writer as unknown as OrderedWriter);
    const consumer = { commitOffsets: jest.fn(() => Promise.resolve()) } as unknown as Consumer;
    const people = Array.from({ length: 24 }, (_, i) => `p${i}`);
    const next = new Map(people.map((person) => [person, 0]));
    const seen: number[] = [];
    // Rounds of 120 operations 50 ms apart, about 8 full batches per 100 ms
    // window, then quiet rounds. Batches stay open across rounds, so lane
    // counts change while some are open.
    const rounds = [
      ...Array.from({ length: 16 }, () => 120),
      ...Array.from({ length: 14 }, () => 10),
    ];
    for (const [round, count] of rounds.entries()) {
      const operations: string[] = [];
      const persons: string[] = [];
      for (let i = 0; i < count; i++) {
        const person = people[(round * 7 + i) % people.length] ?? 'p0';
        const sequence = next.get(person) ?? 0;
        next.set(person, sequence + 1);
        operations.push(event(person, `${person}:${sequence}`));
        persons.push(person);
      }
      await service.consume(payloadOf([lines(operations, persons)], jest.fn()), consumer);
      seen.push(service.lanesOf('site-1'));
      jest.advanceTimersByTime(50);
    }
    await service.flushAll();

    expect(Math.max(...seen)).toBe(4);
    expect(seen.at(-1)).toBe(1);
    const last = new Map<string, number>();
    const outOfOrder: string[] = [];
    for (const message of writer.of(batchesTopic)) {
      const body = JSON.parse(String(message.value)) as { batch: { name: string }[] };
      for (const { name } of body.batch) {
        const [person = '', sequence = ''] = name.split(':');
        if (Number(sequence) !== (last.get(person) ?? -1) + 1) {
          outOfOrder.push(name);
        }
        last.set(person, Number(sequence));
      }
    }
    expect(outOfOrder).toEqual([]);
    expect([...last.values()].reduce((sum, value) => sum + value + 1, 0)).toBe(
      rounds.reduce((sum, count) => sum + count, 0),
    );
  });

  it('writes open batches before a person moves lane', async () => {
    const writer = new HeldWriter();
    const service = new BatcherService(config, writer as unknown as OrderedWriter);
    const consumer = { commitOffsets: jest.fn(() => Promise.resolve()) } as unknown as Consumer;
    const named = (lane: number) =>
      Array.from({ length: 100 }, (_, i) => `person-${i}`).find(
        (name) => hashPerson(`id:${name}`) % 2 === lane,
      ) ?? '';
    const second = named(1);
    const send = async (operations: [string, string][]) => {
      const message = lines(
        operations.map(([person, name]) => event(person, name)),
        operations.map(([person]) => person),
      );
      await service.consume(payloadOf([message], jest.fn()), consumer);
    };
    const filler = (count: number, tag: string) =>
      Array.from({ length: count }, (_, i): [string, string] => ['filler', `${tag}-${i}`]);

    // 0 to 300 ms: over two full batches per window, so 2 lanes from 400 ms.
    for (let window = 0; window < STABLE_WINDOWS; window++) {
      await send(filler(60, `ramp-${window}`));
      jest.advanceTimersByTime(100);
    }
    // 400 to 700 ms: quiet windows, so 1 lane again from 800 ms.
    for (let window = 0; window < STABLE_WINDOWS; window++) {
      await send([['filler', `quiet-${window}`]]);
      jest.advanceTimersByTime(window < STABLE_WINDOWS - 1 ? 100 : 50);
    }
    // 750 ms: `second` opens a batch written at 850 ms.
    await send([[second, 'second:0']]);
    jest.advanceTimersByTime(50);
    // 800 ms: `second` moves lane, into a batch that fills and is written at once.
    await send([[second, 'second:1'], ...filler(30, 'fill')]);
    await service.flushAll();

    expect(service.lanesOf('site-1')).toBe(1);
    const names = writer
      .of(batchesTopic)
      .flatMap(
        (message) => (JSON.parse(String(message.value)) as { batch: { name: string }[] }).batch,
      )
      .map((operation) => operation.name)
      .filter((name) => name.startsWith('second'));
    expect(names).toEqual(['second:0', 'second:1']);
  });

  it('writes open batches before lanes are added', async () => {
    const writer = new HeldWriter();
    const service = new BatcherService(config, writer as unknown as OrderedWriter);
    const consumer = { commitOffsets: jest.fn(() => Promise.resolve()) } as unknown as Consumer;
    const person =
      Array.from({ length: 100 }, (_, i) => `person-${i}`).find(
        (name) => hashPerson(`id:${name}`) % 4 === 1,
      ) ?? '';
    const send = async (operations: [string, string][]) => {
      const message = lines(
        operations.map(([who, name]) => event(who, name)),
        operations.map(([who]) => who),
      );
      await service.consume(payloadOf([message], jest.fn()), consumer);
    };
    const filler = (count: number, tag: string) =>
      Array.from({ length: count }, (_, i): [string, string] => ['filler', `${tag}-${i}`]);
    const own = (from: number, count: number) =>
      Array.from({ length: count }, (_, i): [string, string] => [person, `own:${from + i}`]);

    // 0 to 300 ms: over four full batches per window, so 4 lanes from 400 ms.
    for (let window = 0; window < STABLE_WINDOWS; window++) {
      await send(filler(200, `ramp-${window}`));
      jest.advanceTimersByTime(window < STABLE_WINDOWS - 1 ? 100 : 50);
    }
    // 350 ms: the open batch overflows, and `person` joins a new one written at 450 ms.
    await send([...filler(30, 'overflow'), ...own(0, 1)]);
    jest.advanceTimersByTime(50);
    // 400 ms: 4 lanes, `person` moves to lane 1, whose batch fills and is written at once.
    await send(own(1, 30));
    await service.flushAll();

    expect(service.lanesOf('site-1')).toBe(4);
    const names = writer
      .of(batchesTopic)
      .flatMap(
        (message) => (JSON.parse(String(message.value)) as { batch: { name: string }[] }).batch,
      )
      .map((operation) => operation.name)
      .filter((name) => name.startsWith('own:'));
    expect(names).toEqual(Array.from({ length: 31 }, (_, i) => `own:${i}`));
  });

  it('orders a merge against both people across lanes', async () => {
    const writer = new HeldWriter();
    const service = new BatcherService(config, writer as unknown as OrderedWriter);
    const consumer = { commitOffsets: jest.fn(() => Promise.resolve()) } as unknown as Consumer;
    const names = Array.from({ length: 100 }, (_, i) => `person-${i}`);
    const primary = names.find((name) => hashPerson(`id:${name}`) % 4 === 1) ?? '';
    const secondary = names.find((name) => hashPerson(`id:${name}`) % 4 === 2) ?? '';
    const merge = JSON.stringify({
      type: 'person',
      action: 'merge',
      primary: { id: primary },
      secondary: { id: secondary },
    });
    const filler = Array.from({ length: 200 }, (_, i) => event('filler', `ramp-${i}`));

    for (let window = 0; window < STABLE_WINDOWS; window++) {
      await service.consume(
        payloadOf(
          [
            lines(
              filler,
              filler.map(() => 'filler'),
            ),
          ],
          jest.fn(),
        ),
        consumer,
      );
      jest.advanceTimersByTime(100);
    }
    const value = lines(
      [event(secondary, 'before'), merge, event(secondary, 'after')],
      [secondary, primary, secondary],
    );
    await service.consume(payloadOf([value], jest.fn()), consumer);
    await service.flushAll();

    expect(service.lanesOf('site-1')).toBe(4);
    const order = writer
      .of(batchesTopic)
      .flatMap(
        (message) =>
          (JSON.parse(String(message.value)) as { batch: { name?: string; action: string }[] })
            .batch,
      )
      .map((operation) => operation.name ?? operation.action)
      .filter((name) => !name.startsWith('ramp-'));
    expect(order).toEqual(['before', 'merge', 'after']);
  });
});
