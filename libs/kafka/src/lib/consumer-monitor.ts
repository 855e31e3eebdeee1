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

/** Returns the state of a consumer that has not connected yet. */
export function initialConsumerState(startedAt = Date.now()): ConsumerState {
  return {
    connected: false,
    rebalancing: false,
    assignment: {},
    crashed: undefined,
    lastCrashAt: undefined,
    lastCrashError: undefined,
    lastHeartbeatAt: undefined,
    lastFetchAt: undefined,
    lastBatchAt: undefined,
    startedAt,
  };
}

/** The consumer's state, kept from kafkajs's own instrumentation events. */
export class ConsumerMonitor {
  private readonly current = initialConsumerState();
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

/**
 * Combines the states of the consumers that a process runs in one group into
 * the one state that health checks read. It is connected only when every
 * consumer is, rebalancing when any is, crashed when any crashed for good,
 * and assigned the union of their partitions. Fetch, heartbeat and batch times come from the consumer
 * furthest behind among those holding partitions, so one stuck consumer
 * shows even when the others fetch. With no partitions anywhere, they come
 * from the most recent consumer.
 */
export function combineConsumerStates(states: ConsumerState[]): ConsumerState {
  const [first, ...rest] = states;
  if (first === undefined) {
    throw new Error('no consumer state to combine: pass at least one');
  }
  if (rest.length === 0) {
    return first;
  }
  const assignment: Record<string, number[]> = {};
  for (const state of states) {
    for (const [topic, partitions] of Object.entries(state.assignment)) {
      assignment[topic] = [...new Set([...(assignment[topic] ?? []), ...partitions])].sort(
        (a, b) => a - b,
      );
    }
  }
  const holding = states.filter((state) =>
    Object.values(state.assignment).some((partitions) => partitions.length > 0),
  );
  const timeOf = (field: 'lastHeartbeatAt' | 'lastFetchAt' | 'lastBatchAt') =>
    holding.length > 0 ? oldest(holding.map((state) => state[field])) : latest(states, field);
  const lastCrash = states.reduce<ConsumerState | undefined>(
    (found, state) =>
      state.lastCrashAt !== undefined && state.lastCrashAt > (found?.lastCrashAt ?? -Infinity)
        ? state
        : found,
    undefined,
  );
  return {
    connected: states.every((state) => state.connected),
    rebalancing: states.some((state) => state.rebalancing),
    assignment,
    crashed: states.find((state) => state.crashed !== undefined)?.crashed,
    lastCrashAt: lastCrash?.lastCrashAt,
    lastCrashError: lastCrash?.lastCrashError,
    lastHeartbeatAt: timeOf('lastHeartbeatAt'),
    lastFetchAt: timeOf('lastFetchAt'),
    lastBatchAt: timeOf('lastBatchAt'),
    startedAt: Math.min(...states.map((state) => state.startedAt)),
  };
}

/** Returns the earliest time, or undefined when any consumer has none yet. */
function oldest(times: (number | undefined)[]): number | undefined {
  return times.some((time) => time === undefined) ? undefined : Math.min(...(times as number[]));
}

function latest(
  states: ConsumerState[],
  field: 'lastHeartbeatAt' | 'lastFetchAt' | 'lastBatchAt',
): number | undefined {
  const times = states.flatMap((state) => (state[field] === undefined ? [] : [state[field]]));
  return times.length === 0 ? undefined : Math.max(...times);
}
