import { computeLag } from './lag';

describe('computeLag', () => {
  const watermarks = [
    { partition: 0, low: '0', high: '10' },
    { partition: 1, low: '5', high: '8' },
    { partition: 2, low: '0', high: '0' },
  ];

  it('sums what each partition has past its committed offset', () => {
    const committed = [
      { partition: 0, offset: '7' },
      { partition: 1, offset: '8' },
      { partition: 2, offset: '-1' },
    ];
    expect(computeLag(watermarks, committed)).toBe(3);
  });

  it('counts a partition without a commit from its low watermark', () => {
    expect(computeLag(watermarks, [{ partition: 0, offset: '10' }])).toBe(3);
    expect(computeLag(watermarks, [{ partition: 1, offset: '-1' }])).toBe(13);
  });

  it('is 0 when every partition is committed to its end', () => {
    const committed = watermarks.map((entry) => ({
      partition: entry.partition,
      offset: entry.high,
    }));
    expect(computeLag(watermarks, committed)).toBe(0);
  });
});
