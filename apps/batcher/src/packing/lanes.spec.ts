import { LaneSplitter, STABLE_WINDOWS } from './lanes';

describe('LaneSplitter', () => {
  let now: number;
  let changes: [string, number][];
  let splitter: LaneSplitter;

  beforeEach(() => {
    now = 0;
    changes = [];
    splitter = new LaneSplitter({
      windowMs: 100,
      fullBatchBytes: 1000,
      maxLanes: 4,
      onChange: (workspace, lanes) => {
        changes.push([workspace, lanes]);
      },
      now: () => now,
    });
  });

  /** Adds `bytes` in operations of 100 bytes in each of `count` windows of 100 ms. */
  function windows(workspace: string, bytes: number, count: number): void {
    for (let window = 0; window < count; window++) {
      for (let added = 0; added < bytes; added += 100) {
        splitter.laneOf(workspace, 0, 100);
      }
      now += 100;
    }
  }

  it('starts with one lane', () => {
    expect(splitter.laneOf('site-1', 7, 100)).toBe(0);
    expect(splitter.lanesOf('site-1')).toBe(1);
  });

  it('counts full batches per window', () => {
    windows('site-1', 3000, STABLE_WINDOWS);

    expect(splitter.laneOf('site-1', 7, 100)).toBe(7 % 3);
    expect(changes).toEqual([['site-1', 3]]);
  });

  it('rounds part of a batch down', () => {
    windows('site-1', 3900, STABLE_WINDOWS);
    splitter.laneOf('site-1', 0, 100);

    expect(splitter.lanesOf('site-1')).toBe(3);
  });

  it('waits for the count to hold', () => {
    windows('site-1', 3000, STABLE_WINDOWS - 1);
    splitter.laneOf('site-1', 0, 100);

    expect(splitter.lanesOf('site-1')).toBe(1);
    expect(changes).toEqual([]);
  });

  it('ignores a count that alternates', () => {
    for (let i = 0; i < 2 * STABLE_WINDOWS; i++) {
      windows('site-1', i % 2 === 0 ? 3000 : 4000, 1);
    }
    splitter.laneOf('site-1', 0, 100);

    expect(changes).toEqual([]);
  });

  it('caps the count at maxLanes', () => {
    windows('site-1', 9000, STABLE_WINDOWS);
    splitter.laneOf('site-1', 0, 100);

    expect(splitter.lanesOf('site-1')).toBe(4);
  });

  it('lowers the count when the rate falls', () => {
    windows('site-1', 3000, STABLE_WINDOWS);
    windows('site-1', 100, STABLE_WINDOWS);
    splitter.laneOf('site-1', 0, 100);

    expect(changes).toEqual([
      ['site-1', 3],
      ['site-1', 1],
    ]);
  });

  it('scales bytes by the time a window took', () => {
    windows('site-1', 3000, STABLE_WINDOWS);
    splitter.laneOf('site-1', 0, 100);
    // Each window's 3000 bytes now come over 10 s, a rate of 30 bytes per 100 ms.
    for (let i = 0; i < STABLE_WINDOWS; i++) {
      windows('site-1', 3000, 1);
      now += 9_900;
    }
    splitter.laneOf('site-1', 0, 100);

    expect(changes).toEqual([
      ['site-1', 3],
      ['site-1', 1],
    ]);
  });

  it('keeps workspaces apart', () => {
    for (let i = 0; i < STABLE_WINDOWS; i++) {
      for (let added = 0; added < 3000; added += 100) {
        splitter.laneOf('site-1', 0, 100);
      }
      splitter.laneOf('site-2', 0, 100);
      now += 100;
    }
    splitter.laneOf('site-1', 0, 100);
    splitter.laneOf('site-2', 0, 100);

    expect(splitter.lanesOf('site-1')).toBe(3);
    expect(splitter.lanesOf('site-2')).toBe(1);
  });

  it('gives a person one lane per count', () => {
    windows('site-1', 4000, STABLE_WINDOWS);
    const lanes = Array.from({ length: 6 }, () => splitter.laneOf('site-1', 0xdeadbeef, 100));

    expect(lanes).toEqual(Array.from({ length: 6 }, () => 0xdeadbeef % 4));
  });
});
