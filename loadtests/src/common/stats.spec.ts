import {
  linearSlope,
  percentile,
  perSecondCounts,
  steadyRate,
  summarizeLatencies,
  Timeline,
} from './stats';

describe('percentile', () => {
  const sorted = Array.from({ length: 100 }, (_, index) => index + 1);

  it('returns the nearest rank', () => {
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it('returns the exact rank of 99.9 of 1000', () => {
    const thousand = Array.from({ length: 1000 }, (_, index) => index + 1);
    expect(percentile(thousand, 99.9)).toBe(999);
  });

  it('returns 0 for no values', () => {
    expect(percentile([], 50)).toBe(0);
  });
});

describe('summarizeLatencies', () => {
  it('sorts before taking percentiles', () => {
    const summary = summarizeLatencies([5, 1, 4, 2, 3]);
    expect(summary).toEqual({ count: 5, mean: 3, p50: 3, p99: 5, max: 5 });
  });

  it('gives zeros for no values', () => {
    expect(summarizeLatencies([])).toEqual({ count: 0, mean: 0, p50: 0, p99: 0, max: 0 });
  });
});

describe('linearSlope', () => {
  it('fits a line', () => {
    const points = [0, 1, 2, 3].map((x) => ({ x, y: 10 + 2 * x }));
    expect(linearSlope(points)).toBeCloseTo(2);
  });

  it('is 0 for flat or single points', () => {
    expect(linearSlope([{ x: 1, y: 5 }])).toBe(0);
    expect(
      linearSlope([
        { x: 1, y: 5 },
        { x: 1, y: 9 },
      ]),
    ).toBe(0);
  });
});

describe('steadyRate', () => {
  it('measures from the first delivery to the given share', () => {
    const samples = [
      { atMs: 0, count: 0 },
      { atMs: 1000, count: 0 },
      { atMs: 2000, count: 100 },
      { atMs: 3000, count: 600 },
      { atMs: 4000, count: 950 },
      { atMs: 9000, count: 1000 },
    ];
    expect(steadyRate(samples, 1000)).toEqual({ perSecond: 425, fromMs: 2000, toMs: 4000 });
  });

  it('leaves out the start up to fromShare', () => {
    const samples = [
      { atMs: 1000, count: 50 },
      { atMs: 2000, count: 150 },
      { atMs: 3000, count: 600 },
      { atMs: 4000, count: 950 },
    ];
    expect(steadyRate(samples, 1000, 0.9, 0.1)).toEqual({
      perSecond: 400,
      fromMs: 2000,
      toMs: 4000,
    });
  });

  it('returns undefined without a window', () => {
    expect(steadyRate([{ atMs: 0, count: 0 }], 10)).toBeUndefined();
    expect(steadyRate([{ atMs: 5, count: 10 }], 10)).toBeUndefined();
  });
});

describe('perSecondCounts', () => {
  it('turns cumulative counts into counts per second', () => {
    const samples = [
      { atMs: 500, count: 5 },
      { atMs: 1100, count: 12 },
      { atMs: 2600, count: 30 },
    ];
    expect(perSecondCounts(samples)).toEqual([
      { second: 1, events: 12 },
      { second: 2, events: 18 },
    ]);
  });
});

describe('Timeline', () => {
  it('buckets completions by second', () => {
    const timeline = new Timeline(1000);
    timeline.record(1100, 1, 10);
    timeline.record(1900, 5, 30);
    timeline.record(3500, 2, 20);
    const points = timeline.points();
    expect(points).toHaveLength(3);
    expect(points[0]).toEqual({ second: 1, requests: 2, events: 6, p50Ms: 10, p99Ms: 30 });
    expect(points[1]).toEqual({ second: 2, requests: 0, events: 0, p50Ms: 0, p99Ms: 0 });
    expect(points[2]).toEqual({ second: 3, requests: 1, events: 2, p50Ms: 20, p99Ms: 20 });
  });
});
