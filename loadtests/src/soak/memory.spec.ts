import { judgeMemory } from './memory-verdict';
import { parseVmRss, residentBytes } from './memory';

describe('parseVmRss', () => {
  it('reads the VmRSS line in bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nThreads:\t11\n';
    expect(parseVmRss(status)).toBe(123_456 * 1024);
  });

  it('returns undefined without the line', () => {
    expect(parseVmRss('Name:\tkthreadd\n')).toBeUndefined();
  });
});

describe('residentBytes', () => {
  it('reads this process', () => {
    expect(residentBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });

  it('returns undefined for a process that does not exist', () => {
    expect(residentBytes(2 ** 30)).toBeUndefined();
  });
});

describe('judgeMemory', () => {
  const limits = { maxRssMb: 300, maxSlopeMbPerMinute: 10, warmupSeconds: 20, untilSecond: 120 };

  it('accepts flat memory under the limit', () => {
    const samples = Array.from({ length: 61 }, (_, index) => ({
      second: index * 2,
      megabytes: 100 + (index % 2) * 3,
    }));
    const verdict = judgeMemory('gateway', samples, limits);
    expect(verdict.underLimit).toBe(true);
    expect(verdict.flat).toBe(true);
    expect(verdict.maxMb).toBe(103);
  });

  it('reports growth after the warm-up', () => {
    // 30 MB per minute from second 20 on; the steep start is left out.
    const samples = Array.from({ length: 61 }, (_, index) => {
      const second = index * 2;
      return { second, megabytes: second < 20 ? second * 5 : 100 + (second / 60) * 30 };
    });
    const verdict = judgeMemory('batcher', samples, limits);
    expect(verdict.slopeMbPerMinute).toBeCloseTo(30, 1);
    expect(verdict.flat).toBe(false);
  });

  it('reports memory at or over the limit', () => {
    const verdict = judgeMemory('sender', [{ second: 30, megabytes: 300 }], limits);
    expect(verdict.underLimit).toBe(false);
  });

  it('leaves samples after the load out of the slope', () => {
    const samples = [
      { second: 30, megabytes: 100 },
      { second: 120, megabytes: 100 },
      { second: 150, megabytes: 250 },
    ];
    expect(judgeMemory('gateway', samples, limits).slopeMbPerMinute).toBe(0);
  });
});
