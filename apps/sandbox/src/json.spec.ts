import fc from 'fast-check';
import { jsonBytes, jsonBytesBound } from './json';

const NO_CAP = Number.POSITIVE_INFINITY;

describe('jsonBytesBound', () => {
  it('is never below jsonBytes', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expect(jsonBytesBound(value, NO_CAP)).toBeGreaterThanOrEqual(jsonBytes(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('is never below jsonBytes for any UTF-16 text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (key, text) => {
        const value = { [key]: [text, { [text]: key }] };
        expect(jsonBytesBound(value, NO_CAP)).toBeGreaterThanOrEqual(jsonBytes(value));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['control characters', '\u0001\u001f'.repeat(50)],
    ['quotes and backslashes', '"\\'.repeat(50)],
    ['lone surrogates', '\ud800\udfff\udc00'.repeat(50)],
    ['emoji', '😀'.repeat(50)],
    ['accented letters', 'é'.repeat(50)],
  ])('covers strings of %s', (_name, text) => {
    expect(jsonBytesBound(text, NO_CAP)).toBeGreaterThanOrEqual(jsonBytes(text));
    expect(jsonBytesBound({ [text]: text }, NO_CAP)).toBeGreaterThanOrEqual(
      jsonBytes({ [text]: text }),
    );
  });

  it.each([
    -0.0000012345678901234567,
    -1.7976931348623157e308,
    -5e-324,
    -123456789012345680000,
    Number.NaN,
    Number.NEGATIVE_INFINITY,
  ])('covers the number %p', (value) => {
    expect(jsonBytesBound(value, NO_CAP)).toBeGreaterThanOrEqual(jsonBytes(value));
    expect(jsonBytesBound([value], NO_CAP)).toBeGreaterThanOrEqual(jsonBytes([value]));
  });

  it('returns Infinity once the bound passes the cap', () => {
    const value = { text: 'x'.repeat(100) };
    expect(jsonBytesBound(value, 1000)).toBeLessThanOrEqual(1000);
    expect(jsonBytesBound(value, 500)).toBe(Number.POSITIVE_INFINITY);
    expect(jsonBytesBound(['x'.repeat(100), 1], 500)).toBe(Number.POSITIVE_INFINITY);
    expect(jsonBytesBound('x'.repeat(100), 500)).toBe(Number.POSITIVE_INFINITY);
  });

  it('returns Infinity past 64 levels of nesting', () => {
    let shallow: unknown = 1;
    for (let level = 0; level < 64; level++) {
      shallow = [shallow];
    }
    expect(jsonBytesBound(shallow, NO_CAP)).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(jsonBytesBound([shallow], NO_CAP)).toBe(Number.POSITIVE_INFINITY);
  });

  it('returns Infinity for values JSON.parse does not produce', () => {
    expect(jsonBytesBound(new Date(0), NO_CAP)).toBe(Number.POSITIVE_INFINITY);
    expect(jsonBytesBound({ when: new Date(0) }, NO_CAP)).toBe(Number.POSITIVE_INFINITY);
    expect(jsonBytesBound(undefined, NO_CAP)).toBe(Number.POSITIVE_INFINITY);
    expect(jsonBytesBound({ big: 1n }, NO_CAP)).toBe(Number.POSITIVE_INFINITY);
  });
});
