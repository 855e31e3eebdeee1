import { combineConsumerStates, type ConsumerState } from './consumer-monitor';

function state(overrides: Partial<ConsumerState> = {}): ConsumerState {
  return {
    connected: true,
    rebalancing: false,
    assignment: {},
    crashed: undefined,
    lastCrashAt: undefined,
    lastCrashError: undefined,
    lastHeartbeatAt: undefined,
    lastFetchAt: undefined,
    lastBatchAt: undefined,
    startedAt: 1000,
    ...overrides,
  };
}

describe('combineConsumerStates', () => {
  it('returns a single state as it is', () => {
    const only = state({ lastFetchAt: 5 });
    expect(combineConsumerStates([only])).toBe(only);
  });

  it('refuses an empty list', () => {
    expect(() => combineConsumerStates([])).toThrow('at least one consumer state');
  });

  it('joins the partitions of every consumer, each once and sorted', () => {
    const combined = combineConsumerStates([
      state({ assignment: { batches: [4, 1] } }),
      state({ assignment: { batches: [1, 2], other: [0] } }),
    ]);
    expect(combined.assignment).toEqual({ batches: [1, 2, 4], other: [0] });
  });

  it('is connected only when every consumer is', () => {
    expect(combineConsumerStates([state(), state({ connected: false })]).connected).toBe(false);
    expect(combineConsumerStates([state(), state()]).connected).toBe(true);
  });

  it('is rebalancing when any consumer is', () => {
    expect(combineConsumerStates([state(), state({ rebalancing: true })]).rebalancing).toBe(true);
  });

  it('reports a crash for good and the latest crash', () => {
    const combined = combineConsumerStates([
      state({ lastCrashAt: 300, lastCrashError: 'later' }),
      state({ crashed: 'gone', lastCrashAt: 200, lastCrashError: 'gone' }),
    ]);
    expect(combined.crashed).toBe('gone');
    expect(combined.lastCrashAt).toBe(300);
    expect(combined.lastCrashError).toBe('later');
  });

  it('takes times from the consumer furthest behind among those with partitions', () => {
    const combined = combineConsumerStates([
      state({ assignment: { batches: [0] }, lastFetchAt: 900, lastHeartbeatAt: 950 }),
      state({ assignment: { batches: [1] }, lastFetchAt: 500, lastHeartbeatAt: 990 }),
      // Without partitions: its old times do not count.
      state({ assignment: { batches: [] }, lastFetchAt: 100, lastHeartbeatAt: 100 }),
    ]);
    expect(combined.lastFetchAt).toBe(500);
    expect(combined.lastHeartbeatAt).toBe(950);
  });

  it('has no fetch time while a consumer with partitions has not fetched', () => {
    const combined = combineConsumerStates([
      state({ assignment: { batches: [0] }, lastFetchAt: 900 }),
      state({ assignment: { batches: [1] } }),
    ]);
    expect(combined.lastFetchAt).toBeUndefined();
  });

  it('takes the latest times when no consumer has partitions', () => {
    const combined = combineConsumerStates([
      state({ lastFetchAt: 300, startedAt: 50 }),
      state({ lastFetchAt: 700 }),
    ]);
    expect(combined.lastFetchAt).toBe(700);
    expect(combined.lastBatchAt).toBeUndefined();
    expect(combined.startedAt).toBe(50);
  });
});
