import fc from 'fast-check';
import { PartitionOffsets } from './offset-tracker';

describe('PartitionOffsets', () => {
  describe('committable', () => {
    it('is undefined before tracking', () => {
      expect(new PartitionOffsets().committable()).toBeUndefined();
    });

    it('stays at lowest pending offset', () => {
      const offsets = new PartitionOffsets();
      offsets.track(10);
      offsets.track(11);
      offsets.track(12);
      offsets.complete(11);
      offsets.complete(12);
      expect(offsets.committable()).toBe(10);
    });

    it('advances past completed run', () => {
      const offsets = new PartitionOffsets();
      offsets.track(10);
      offsets.track(11);
      offsets.track(12);
      offsets.complete(11);
      offsets.complete(10);
      expect(offsets.committable()).toBe(12);
    });

    it('is next offset when all done', () => {
      const offsets = new PartitionOffsets();
      offsets.track(10);
      offsets.track(11);
      offsets.complete(11);
      offsets.complete(10);
      expect(offsets.committable()).toBe(12);
    });

    it('skips gaps between offsets', () => {
      const offsets = new PartitionOffsets();
      offsets.track(10);
      offsets.track(20);
      offsets.complete(10);
      expect(offsets.committable()).toBe(20);
    });

    it('matches lowest pending for any order', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.nat({ max: 5000 }), { minLength: 1, maxLength: 200 }),
          fc.func(fc.nat()),
          (raw, rank) => {
            const tracked = [...raw].sort((a, b) => a - b);
            const offsets = new PartitionOffsets();
            tracked.forEach((offset) => {
              offsets.track(offset);
            });
            const order = [...tracked].sort((a, b) => rank(a) - rank(b) || a - b);
            const pending = new Set(tracked);
            for (const offset of order) {
              offsets.complete(offset);
              pending.delete(offset);
              const lowest = Math.min(...pending);
              const expected = pending.size === 0 ? tracked.at(-1)! + 1 : lowest;
              expect(offsets.committable()).toBe(expected);
            }
          },
        ),
        { numRuns: 200 },
      );
    });

    it('advances past 1024 compacted offsets', () => {
      const offsets = new PartitionOffsets();
      for (let offset = 0; offset < 3000; offset++) {
        offsets.track(offset);
      }
      for (let offset = 0; offset < 2000; offset++) {
        offsets.complete(offset);
      }
      expect(offsets.committable()).toBe(2000);
      offsets.complete(2000);
      expect(offsets.committable()).toBe(2001);
    });
  });

  describe('parts', () => {
    it('holds offset until every part completes', () => {
      const offsets = new PartitionOffsets();
      offsets.track(5, 3);
      offsets.complete(5);
      offsets.complete(5);
      expect(offsets.committable()).toBe(5);
    });

    it('releases offset after last part', () => {
      const offsets = new PartitionOffsets();
      offsets.track(5, 3);
      offsets.complete(5);
      offsets.complete(5, 2);
      expect(offsets.committable()).toBe(6);
    });

    it('releases offset on surplus parts', () => {
      const offsets = new PartitionOffsets();
      offsets.track(5, 2);
      offsets.complete(5, 5);
      expect(offsets.pendingCount()).toBe(0);
    });

    it('treats zero parts as done', () => {
      const offsets = new PartitionOffsets();
      offsets.track(5, 0);
      expect(offsets.committable()).toBe(6);
    });

    it('keeps zero parts behind pending', () => {
      const offsets = new PartitionOffsets();
      offsets.track(4);
      offsets.track(5, 0);
      expect(offsets.committable()).toBe(4);
    });
  });

  describe('complete', () => {
    it('ignores untracked offset', () => {
      const offsets = new PartitionOffsets();
      offsets.track(5);
      offsets.complete(4);
      expect(offsets.committable()).toBe(5);
    });

    it('ignores repeated completion', () => {
      const offsets = new PartitionOffsets();
      offsets.track(5);
      offsets.track(6);
      offsets.complete(5);
      offsets.complete(5);
      expect(offsets.pendingCount()).toBe(1);
    });
  });

  describe('track', () => {
    it('rejects repeated offset', () => {
      const offsets = new PartitionOffsets();
      offsets.track(5);
      expect(() => {
        offsets.track(5);
      }).toThrow('offset 5 tracked after 5: offsets must increase');
    });

    it('rejects lower offset', () => {
      const offsets = new PartitionOffsets();
      offsets.track(5);
      expect(() => {
        offsets.track(3);
      }).toThrow('offset 3 tracked after 5: offsets must increase');
    });

    it('counts pending offsets', () => {
      const offsets = new PartitionOffsets();
      offsets.track(1);
      offsets.track(2, 4);
      offsets.track(3, 0);
      expect(offsets.pendingCount()).toBe(2);
    });
  });

  describe('isAfterTracked', () => {
    it('is true before tracking', () => {
      expect(new PartitionOffsets().isAfterTracked(0)).toBe(true);
    });

    it('is false for tracked offset', () => {
      const offsets = new PartitionOffsets();
      offsets.track(7);
      expect(offsets.isAfterTracked(7)).toBe(false);
    });

    it('is false for earlier offset', () => {
      const offsets = new PartitionOffsets();
      offsets.track(7);
      expect(offsets.isAfterTracked(3)).toBe(false);
    });

    it('is true for later offset', () => {
      const offsets = new PartitionOffsets();
      offsets.track(7);
      expect(offsets.isAfterTracked(8)).toBe(true);
    });

    it('stays false after completion', () => {
      const offsets = new PartitionOffsets();
      offsets.track(7);
      offsets.complete(7);
      expect(offsets.isAfterTracked(7)).toBe(false);
    });

    it('counts zero-part offsets', () => {
      const offsets = new PartitionOffsets();
      offsets.track(7, 0);
      expect(offsets.isAfterTracked(7)).toBe(false);
    });
  });
});
