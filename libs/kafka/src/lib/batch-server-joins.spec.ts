import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import { RecordingLogger } from '../testing/test-broker';
import { KafkaBatchServer } from './batch-server';

const EVENTS = {
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  REBALANCING: 'consumer.rebalancing',
  GROUP_JOIN: 'consumer.group_join',
  HEARTBEAT: 'consumer.heartbeat',
  FETCH: 'consumer.fetch',
  CRASH: 'consumer.crash',
};

/** Enough of a kafkajs consumer for the server: it connects, runs, and emits the events the test gives it. */
class FakeConsumer extends EventEmitter {
  readonly events = EVENTS;
  connect = () => Promise.resolve();
  subscribe = () => Promise.resolve();
  run = jest.fn(() => Promise.resolve());
  disconnect = jest.fn(() => Promise.resolve());

  rebalance(): void {
    this.emit(EVENTS.REBALANCING, { timestamp: Date.now(), payload: {} });
  }

  join(partitions: number[]): void {
    this.emit(EVENTS.GROUP_JOIN, {
      timestamp: Date.now(),
      payload: { memberAssignment: { batches: partitions } },
    });
  }
}

function createServer(consumers: FakeConsumer[]): KafkaBatchServer {
  const queue = [...consumers];
  const kafka = { consumer: () => queue.shift() } as unknown as Kafka;
  return new KafkaBatchServer({
    kafka,
    groupId: 'group',
    topics: [],
    partitionsConsumedConcurrently: 1,
    consumers: consumers.length,
    logger: new RecordingLogger(),
  });
}

function listen(server: KafkaBatchServer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.listen((error) => {
      if (error === undefined) {
        resolve();
      } else {
        reject(error instanceof Error ? error : new Error('listen failed'));
      }
    });
  });
}

async function startServer(consumers: FakeConsumer[]): Promise<KafkaBatchServer> {
  const server = createServer(consumers);
  await listen(server);
  return server;
}

describe('KafkaBatchServer group joins', () => {
  it('settles join after last rejoin', async () => {
    const [a, b] = [new FakeConsumer(), new FakeConsumer()];
    const server = await startServer([a, b]);
    const joins: { partitions: number[] | undefined; settled: boolean }[] = [];
    server.onGroupJoin((assignment, settled) => {
      joins.push({ partitions: assignment['batches'], settled });
    });

    a.join([0, 1]);
    b.join([2]);
    // Partition 1 moves from a to b; a's join comes first.
    a.rebalance();
    b.rebalance();
    a.join([0]);
    b.join([1, 2]);

    expect(joins).toEqual([
      { partitions: [0, 1], settled: true },
      { partitions: [0, 1, 2], settled: true },
      { partitions: [0, 2], settled: false },
      { partitions: [0, 1, 2], settled: true },
    ]);
  });

  it('disconnects all when one fails', async () => {
    const [a, b] = [new FakeConsumer(), new FakeConsumer()];
    b.connect = () => Promise.reject(new Error('broker unreachable'));
    await expect(startServer([a, b])).rejects.toThrow('broker unreachable');
    expect(a.disconnect).toHaveBeenCalled();
  });
});

describe('KafkaBatchServer close', () => {
  it('keeps connecting consumer out', async () => {
    const consumer = new FakeConsumer();
    let connected: () => void = () => undefined;
    consumer.connect = () =>
      new Promise<void>((resolve) => {
        connected = resolve;
      });
    const server = createServer([consumer]);
    const listening = listen(server);
    await server.close();
    connected();
    await listening;

    expect(consumer.run).not.toHaveBeenCalled();
    expect(consumer.disconnect).toHaveBeenCalledTimes(2);
  });
});
