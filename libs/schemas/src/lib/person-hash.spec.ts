import fc from 'fast-check';
import { decodePersonHashes, encodePersonHashes, hashPerson } from './person-hash';

describe('hashPerson', () => {
  // Reference values of 32-bit FNV-1a for ASCII input.
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('hashes %p like FNV-1a', (text, hash) => {
    expect(hashPerson(text)).toBe(hash);
  });

  it('returns unsigned 32-bit integer', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const hash = hashPerson(text);
        expect(Number.isInteger(hash)).toBe(true);
        expect(hash).toBeGreaterThanOrEqual(0);
        expect(hash).toBeLessThanOrEqual(0xffffffff);
      }),
    );
  });
});

describe('encodePersonHashes', () => {
  const hashes = fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 200 });

  it('round-trips through decode', () => {
    fc.assert(
      fc.property(hashes, (values) => {
        const decoded = decodePersonHashes(encodePersonHashes(Uint32Array.from(values)));
        expect([...decoded]).toEqual(values);
      }),
    );
  });

  it('encodes only the view', () => {
    fc.assert(
      fc.property(hashes, fc.nat({ max: 5 }), (values, start) => {
        const whole = Uint32Array.from([1, 2, 3, 4, 5, ...values]);
        const view = whole.subarray(start);
        expect([...decodePersonHashes(encodePersonHashes(view))]).toEqual([...view]);
      }),
    );
  });

  it('encodes empty array as empty', () => {
    expect(encodePersonHashes(new Uint32Array(0))).toBe('');
  });

  it('decodes empty header as empty', () => {
    expect(decodePersonHashes('')).toHaveLength(0);
  });

  it('drops trailing partial hash', () => {
    const header = Buffer.from([1, 0, 0, 0, 9, 9]).toString('base64');
    expect(decodePersonHashes(header)).toHaveLength(1);
  });
});
