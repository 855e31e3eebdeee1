import { CallPool, encodeCall } from './call-pool';
import type { TrackApiCall } from '../workload/generator';

describe('CallPool', () => {
  it('builds every item up front', () => {
    let built = 0;
    const pool = new CallPool(3, () => ++built);
    expect(built).toBe(3);
    expect(pool.size).toBe(3);
  });

  it('hands items out in turn and starts over', () => {
    let built = 0;
    const pool = new CallPool(3, () => ++built);
    const handed = Array.from({ length: 7 }, () => pool.next());
    expect(handed).toEqual([1, 2, 3, 1, 2, 3, 1]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects size %p', (size) => {
    expect(() => new CallPool(size, () => 1)).toThrow(/positive integer/);
  });
});

describe('encodeCall', () => {
  it('encodes the body as UTF-8 and keeps the rest', () => {
    const call: TrackApiCall = {
      kind: 'track',
      method: 'POST',
      path: '/api/v1/customers/user-1/events',
      route: '/api/v1/customers/:id/events',
      body: '{"name":"café"}',
      bodyBytes: 16,
      operations: 1,
    };
    const encoded = encodeCall(call);
    expect(encoded.body.equals(Buffer.from('{"name":"café"}', 'utf8'))).toBe(true);
    expect(encoded.body.length).toBe(call.bodyBytes);
    expect(encoded.path).toBe(call.path);
    expect(encoded.operations).toBe(1);
  });
});
