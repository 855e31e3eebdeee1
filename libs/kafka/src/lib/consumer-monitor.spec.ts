import {
  combineConsumerStates,
  initialConsumerState,
  type ConsumerState,
} from './consumer-monitor';

/** Returns a connected consumer's state started at 1000, with `overrides`. */
function state(overrides: Partial<ConsumerState> = {}): ConsumerState {
  return { ...initialConsumerState(1000), connected: true, ...overrides };
}

describe('combineConsumerStates', () => {
  it('returns a single state as it is', () => {
    const only = state({ lastFetchAt: 5 });
    expect(combineConsumerStates([only])).toBe(only);
  });

  it('rejects an empty list', () => {
    expect(() => combineConsumerStates([])).toThrow('pass at least one');
  });

  it('unions partitions, sorted and unique', () => {
    const combined = combineConsumerStates([
      state({ assignment: { batches: [4, 1] } }),
      state({ assignment: { batches: [1, 2], other: [0] } }),
    ]);
    expect(combined.assignment).toEqual({ batches: [1, 2, 4], other: [0] });
  });

  it('is connected when all are', () => {
    expect(combineConsumerStates([state(), state({ connected: false })]).connected).toBe(false);
    expect(combineConsumerStates([state(), state()]).connected).toBe(true);
  });

  it('is rebalancing when any consumer is', () => {
    expect(combineConsumerStates([state(), state({ rebalancing: true })]).rebalancing).toBe(true);
  });

  it('reports final and latest crash', () => {
    const combined = combineConsumerStates([
      state({ lastCrashAt: 300, lastCrashError: 'later' }),
      state({ crashed: 'gone', lastCrashAt: 200, lastCrashError: 'gone' }),
    ]);
    expect(combined.crashed).toBe('gone');
    expect(combined.lastCrashAt).toBe(300);
    expect(combined.lastCrashError).toBe('later');
  });

  it('takes times from slowest holder', () => {
    const combined = combineConsumerStates([
      state({ assignment: { batches: [0] }, lastFetchAt: 900, lastHeartbeatAt: 950 }),
      state({ assignment: { batches: [1] }, lastFetchAt: 500, lastHeartbeatAt: 990 }),
      // Without partitions: its old times do not count.
      state({ assignment: { batches: [] }, lastFetchAt: 100, lastHeartbeatAt: 100 }),
    ]);
    expect(combined.lastFetchAt).toBe(500);
    expect(combined.lastHeartbeatAt).toBe(950);
  });

  it('lacks fetch time before first fetch', () => {
    const combined = combineConsumerStates([
      state({ assignment: { batches: [0] }, lastFetchAt: 900 }),
      state({ assignment: { batches: [1] } }),
    ]);
    expect(combined.lastFetchAt).toBeUndefined();
  });

  it('takes latest times when idle', () => {
    const combined = combineConsumerStates([
      state({ lastFetchAt: 300, startedAt: 50 }),
      state({ lastFetchAt: 700 }),
    ]);
    expect(combined.lastFetchAt).toBe(700);
    expect(combined.lastBatchAt).toBeUndefined();
    expect(combined.startedAt).toBe(50);
  });
});
