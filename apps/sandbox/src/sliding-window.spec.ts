import { EventIdSet } from './event-ids';
import { createRandom } from './random';
import { admitRequest } from './rate-limit';
import { SlidingWindow } from './sliding-window';
import { isUlid } from './ulid';

describe('SlidingWindow', () => {
  it('counts events in the last 1000 ms', () => {
    const window = new SlidingWindow(1000);
    window.add(0);
    window.add(500);
    window.add(999);
    expect(window.count(999)).toBe(3);
    // The window is (now - 1000, now], so the event at 0 leaves at 1000.
    expect(window.count(1000)).toBe(2);
    expect(window.count(1499)).toBe(2);
    expect(window.count(1500)).toBe(1);
    expect(window.count(5000)).toBe(0);
  });

  it('grows past its initial capacity in order', () => {
    const window = new SlidingWindow(1000, 2);
    for (let t = 0; t < 100; t += 1) {
      window.add(t);
      if (t === 50) {
        expect(window.count(t)).toBe(51);
      }
    }
    expect(window.count(99)).toBe(100);
    expect(window.count(1049)).toBe(50);
    window.add(1049);
    expect(window.count(1049)).toBe(51);
  });

  it('clears', () => {
    const window = new SlidingWindow(1000);
    window.add(1);
    window.clear();
    expect(window.count(1)).toBe(0);
  });
});

describe('admitRequest', () => {
  it('admits up to the limit per window', () => {
    const window = new SlidingWindow(1000);
    expect(admitRequest(window, 2, 0)).toBe(true);
    expect(admitRequest(window, 2, 10)).toBe(true);
    expect(admitRequest(window, 2, 20)).toBe(false);
    expect(admitRequest(window, 2, 999)).toBe(false);
    expect(admitRequest(window, 2, 1000)).toBe(true);
    expect(admitRequest(window, 2, 1009)).toBe(false);
    expect(admitRequest(window, 2, 1010)).toBe(true);
  });

  it('admits evenly paced requests at exactly the limit', () => {
    const window = new SlidingWindow(1000);
    for (let i = 0; i < 500; i += 1) {
      expect(admitRequest(window, 100, i * 10)).toBe(true);
    }
  });

  it('admits everything with limit 0', () => {
    const window = new SlidingWindow(1000);
    for (let i = 0; i < 1000; i += 1) {
      expect(admitRequest(window, 0, 0)).toBe(true);
    }
    expect(window.count(0)).toBe(0);
  });
});

describe('createRandom', () => {
  it('repeats a sequence for a seed', () => {
    const first = createRandom(123);
    const second = createRandom(123);
    const other = createRandom(124);
    const a = Array.from({ length: 5 }, () => first());
    expect(Array.from({ length: 5 }, () => second())).toEqual(a);
    expect(Array.from({ length: 5 }, () => other())).not.toEqual(a);
    for (const value of a) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});

describe('EventIdSet', () => {
  it('spreads ids over shards', () => {
    const ids = new EventIdSet(2);
    expect(ids.addIfAbsent('a')).toBe(true);
    expect(ids.addIfAbsent('b')).toBe(true);
    expect(ids.addIfAbsent('c')).toBe(true);
    expect(ids.addIfAbsent('a')).toBe(false);
    expect(ids.addIfAbsent('c')).toBe(false);
    expect(ids.size).toBe(3);
    ids.clear();
    expect(ids.size).toBe(0);
    expect(ids.addIfAbsent('a')).toBe(true);
  });
});

describe('isUlid', () => {
  it.each([
    ['01ARZ3NDEKTSV4RRFFQ69G5FAV', true],
    ['01arz3ndektsv4rrffq69g5fav', true],
    ['7ZZZZZZZZZZZZZZZZZZZZZZZZZ', true],
    ['8ZZZZZZZZZZZZZZZZZZZZZZZZZ', false],
    ['01ARZ3NDEKTSV4RRFFQ69G5FA', false],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAVX', false],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAU', false],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAI', false],
    ['01ARZ3NDEKTSV4RRFFQ69G5FA-', false],
  ])('%s is %s', (value, expected) => {
    expect(isUlid(value)).toBe(expected);
  });
});
