import { parseRetryAfter } from './track-client';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['5', 5],
    ['120', 120],
    [' 7 ', 7],
    ['1.5', 1.5],
  ])('reads %p as seconds', (header, seconds) => {
    expect(parseRetryAfter(header, NOW)).toBe(seconds);
  });

  it('reads future HTTP date', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 12:00:30 GMT', NOW)).toBe(30);
  });

  it('reads past HTTP date as 0', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 11:59:00 GMT', NOW)).toBe(0);
  });

  it('takes first of repeated header', () => {
    expect(parseRetryAfter(['3', '9'], NOW)).toBe(3);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['word', 'soon'],
    ['unit suffix', '10s'],
    ['exponent', '1e3'],
    ['hex', '0x10'],
  ])('ignores %s value', (_kind, header) => {
    expect(parseRetryAfter(header, NOW)).toBeUndefined();
  });

  it('ignores empty header list', () => {
    expect(parseRetryAfter([], NOW)).toBeUndefined();
  });

  it('ignores negative seconds', () => {
    expect(parseRetryAfter('-1', NOW)).toBeUndefined();
  });
});
