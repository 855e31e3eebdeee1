import type { Consumer } from 'kafkajs';

export interface ConsumerState {
  connected: boolean;
  /** True between a rebalance starting and the group join that ends it. */
  rebalancing: boolean;
  /** Partitions assigned at the last group join, by topic. */
  assignment: Record<string, number[]>;
  /** Set when the consumer crashed and kafkajs will not restart it. */
  crashed: string | undefined;
  /** The last crash of any kind; kafkajs restarts after a retriable one, such as a lost broker. */
  lastCrashAt: number | undefined;
  lastCrashError: string | undefined;
  lastHeartbeatAt: number | undefined;
  lastFetchAt: number | undefined;
  lastBatchAt: number | undefined;
  startedAt: number;
}

/** The consumer's state, kept from kafkajs's own instrumentation events. */
export class ConsumerMonitor {
  private readonly current: ConsumerState = {
    connected: false,
    rebalancing: false,
    assignment: {},
    crashed: undefined,
    lastCrashAt: undefined,
    lastCrashError: undefined,
    lastHeartbeatAt: undefined,
    lastFetchAt: undefined,
    lastBatchAt: undefined,
    startedAt: Date.now(),
  };
  private readonly joinListeners: ((assignment: Record<string, number[]>) => void)[] = [];

  /** Calls `listener` with the new assignment after every group join. */
  onGroupJoin(listener: (assignment: Record<string, number[]>) => void): void {
    this.joinListeners.push(listener);
  }

  attach(consumer: Consumer): void {
    const { events } = consumer;
    consumer.on(events.CONNECT, () => {
      this.current.connected = true;
    });
    consumer.on(events.DISCONNECT, () => {
      this.current.connected = false;
    });
    consumer.on(events.STOP, () => {
      this.current.connected = false;
    });
    consumer.on(events.REBALANCING, () => {
      this.current.rebalancing = true;
    });
    consumer.on(events.GROUP_JOIN, (event) => {
      this.current.rebalancing = false;
      this.current.crashed = undefined;
      this.current.assignment = event.payload.memberAssignment;
      for (const listener of this.joinListeners) {
        listener(event.payload.memberAssignment);
      }
    });
    consumer.on(events.HEARTBEAT, (event) => {
      this.current.lastHeartbeatAt = event.timestamp;
    });
    consumer.on(events.FETCH, (event) => {
      this.current.lastFetchAt = event.timestamp;
      this.current.connected = true;
    });
    consumer.on(events.CRASH, (event) => {
      this.current.lastCrashAt = event.timestamp;
      this.current.lastCrashError = event.payload.error.message;
      this.current.connected = false;
      if (!event.payload.restart) {
        this.current.crashed = event.payload.error.message;
        this.current.connected = false;
      }
    });
  }

  recordBatch(): void {
    this.current.lastBatchAt = Date.now();
  }

  state(): ConsumerState {
    return { ...this.current, assignment: { ...this.current.assignment } };
  }
}
