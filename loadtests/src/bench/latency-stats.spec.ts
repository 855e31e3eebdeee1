import {
  EVENT_ID_ATTRIBUTE,
  histogramWindow,
  latencyCurve,
  pairLatencies,
  parseHistogram,
  summarizeAgainstTarget,
  type AcknowledgedOperation,
} from './latency-stats';

function received(id: string | undefined, receivedAt: number) {
  return { receivedAt, attributes: id === undefined ? {} : { [EVENT_ID_ATTRIBUTE]: id } };
}

describe('pairLatencies', () => {
  const acknowledged = new Map<string, AcknowledgedOperation>([
    ['a', { sentAt: 1000, acknowledgedAt: 1010 }],
    ['b', { sentAt: 1000, acknowledgedAt: 1020 }],
    ['c', { sentAt: 2000, acknowledgedAt: 2005 }],
  ]);

  it('measures from acknowledgement and from send', () => {
    const paired = pairLatencies(acknowledged, [received('a', 1300), received('b', 1400)]);
    expect(paired.fromAcceptanceMs).toEqual([290, 380]);
    expect(paired.fromSendMs).toEqual([300, 400]);
  });

  it('counts acknowledged operations never stored', () => {
    const paired = pairLatencies(acknowledged, [received('a', 1300)]);
    expect(paired.missing).toBe(2);
  });

  it('keeps the first arrival of a repeated id', () => {
    const paired = pairLatencies(acknowledged, [
      received('c', 2300),
      received('c', 2900),
      received('a', 1300),
      received('b', 1300),
    ]);
    expect(paired.fromAcceptanceMs).toEqual([295, 290, 280]);
    expect(paired.repeated).toBe(1);
    expect(paired.missing).toBe(0);
  });

  it('counts ids that were not acknowledged', () => {
    const paired = pairLatencies(acknowledged, [received('z', 1300), received('a', 1300)]);
    expect(paired.unknown).toBe(1);
    expect(paired.fromAcceptanceMs).toEqual([290]);
  });

  it('skips operations without an id', () => {
    const paired = pairLatencies(acknowledged, [
      received(undefined, 1300),
      { receivedAt: 1300 },
      { receivedAt: 1300, attributes: { [EVENT_ID_ATTRIBUTE]: 7 } },
    ]);
    expect(paired.unknown).toBe(0);
    expect(paired.fromAcceptanceMs).toEqual([]);
    expect(paired.missing).toBe(3);
  });

  it('keeps negative differences', () => {
    const paired = pairLatencies(acknowledged, [received('a', 1005)]);
    expect(paired.fromAcceptanceMs).toEqual([-5]);
  });
});

describe('summarizeAgainstTarget', () => {
  const values = Array.from({ length: 200 }, (_, index) => 200 - index);

  it('returns nearest-rank percentiles', () => {
    const summary = summarizeAgainstTarget(values, 450);
    expect(summary.count).toBe(200);
    expect(summary.p50).toBe(100);
    expect(summary.p99).toBe(198);
    expect(summary.max).toBe(200);
  });

  it('counts values at the target as within', () => {
    expect(summarizeAgainstTarget(values, 50).shareWithinTarget).toBe(0.25);
    expect(summarizeAgainstTarget(values, 50).overTarget).toBe(150);
    expect(summarizeAgainstTarget(values, 49.5).shareWithinTarget).toBe(0.245);
    expect(summarizeAgainstTarget(values, 49.5).overTarget).toBe(151);
  });

  it('returns zeros for no values', () => {
    expect(summarizeAgainstTarget([], 450)).toEqual({
      count: 0,
      p50: 0,
      p99: 0,
      max: 0,
      shareWithinTarget: 0,
      overTarget: 0,
    });
  });
});

describe('latencyCurve', () => {
  it('includes 99 and 99.9 in ascending order', () => {
    const curve = latencyCurve(
      Array.from({ length: 1000 }, (_, index) => index + 1),
      25,
    );
    expect(curve.map((point) => point.percent)).toEqual([0, 25, 50, 75, 99, 99.9, 100]);
    expect(curve.map((point) => point.ms)).toEqual([1, 250, 500, 750, 990, 999, 1000]);
  });
});

const scrapeText = (counts: number[]) =>
  [
    '# HELP cio_delivery_latency_seconds latency',
    '# TYPE cio_delivery_latency_seconds histogram',
    `cio_delivery_latency_seconds_bucket{le="0.25"} ${counts[0]}`,
    `cio_delivery_latency_seconds_bucket{le="0.45"} ${counts[1]}`,
    `cio_delivery_latency_seconds_bucket{le="0.5"} ${counts[2]}`,
    `cio_delivery_latency_seconds_bucket{le="+Inf"} ${counts[3]}`,
    `cio_delivery_latency_seconds_sum 12.5`,
    `cio_delivery_latency_seconds_count ${counts[3]}`,
    `cio_other_bucket{le="0.25"} 99`,
  ].join('\n');

describe('parseHistogram', () => {
  it('reads the named buckets only', () => {
    const buckets = parseHistogram(scrapeText([1, 2, 3, 4]), 'cio_delivery_latency_seconds');
    expect([...buckets.entries()]).toEqual([
      [0.25, 1],
      [0.45, 2],
      [0.5, 3],
      [Number.POSITIVE_INFINITY, 4],
    ]);
  });

  it('returns no buckets for another name', () => {
    expect(parseHistogram(scrapeText([1, 2, 3, 4]), 'cio_missing').size).toBe(0);
  });
});

describe('histogramWindow', () => {
  const name = 'cio_delivery_latency_seconds';
  const before = parseHistogram(scrapeText([10, 10, 10, 10]), name);

  it('reads the share within the target from the difference', () => {
    const after = parseHistogram(scrapeText([40, 100, 105, 110]), name);
    const window = histogramWindow(before, after, 0.45);
    expect(window.observations).toBe(100);
    expect(window.shareWithinTarget).toBe(0.9);
    expect(window.targetBucketSeconds).toBe(0.45);
  });

  it('returns the bucket bounds of p50 and p99', () => {
    const after = parseHistogram(scrapeText([40, 100, 105, 110]), name);
    const window = histogramWindow(before, after, 0.45);
    expect(window.p50UpperBoundSeconds).toBe(0.45);
    expect(window.p99UpperBoundSeconds).toBe(Number.POSITIVE_INFINITY);
  });

  it('uses the largest bound under a target between bounds', () => {
    const after = parseHistogram(scrapeText([40, 100, 105, 110]), name);
    const window = histogramWindow(before, after, 0.4);
    expect(window.targetBucketSeconds).toBe(0.25);
    expect(window.shareWithinTarget).toBe(0.3);
  });

  it('returns zeros without observations', () => {
    const window = histogramWindow(before, before, 0.45);
    expect(window.observations).toBe(0);
    expect(window.shareWithinTarget).toBe(0);
    expect(window.p50UpperBoundSeconds).toBe(0);
  });
});
