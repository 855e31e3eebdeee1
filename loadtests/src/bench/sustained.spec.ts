import { deliveryRate } from './sustained';

const sample = (atMs: number, count: number) => ({ atMs, count, requests: 0, throttled: 0 });

describe('deliveryRate', () => {
  it('starts at the first delivery', () => {
    const samples = [sample(0, 0), sample(500, 0), sample(1000, 100), sample(3000, 5100)];
    expect(deliveryRate(samples)).toBe(2500);
  });

  it('returns 0 without a delivery', () => {
    expect(deliveryRate([sample(0, 0), sample(1000, 0)])).toBe(0);
  });

  it('returns 0 for a single delivering sample', () => {
    expect(deliveryRate([sample(0, 0), sample(1000, 10)])).toBe(0);
  });

  it('returns 0 without samples', () => {
    expect(deliveryRate([])).toBe(0);
  });
});
