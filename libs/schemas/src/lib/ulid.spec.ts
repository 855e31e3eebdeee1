import { isUlid, UlidFactory } from './ulid';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Decodes the 48-bit millisecond time in the first 10 characters of a ULID. */
function timeOf(ulid: string): number {
  let time = 0;
  for (let i = 0; i < 10; i++) {
    time = time * 32 + ALPHABET.indexOf(ulid.charAt(i));
  }
  return time;
}

/** Decodes the 80 random bits in the last 16 characters of a ULID into 10 bytes. */
function randomBytesOf(ulid: string): number[] {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of ulid.slice(10)) {
    buffer = (buffer << 5) | ALPHABET.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 255);
      buffer &= (1 << bits) - 1;
    }
  }
  return bytes;
}

describe('isUlid', () => {
  it('accepts upper-case ULID', () => {
    expect(isUlid('01HZY8QK3V5W7X9A0B1C2D3E4F')).toBe(true);
  });

  it('accepts lower-case ULID', () => {
    expect(isUlid('01hzy8qk3v5w7x9a0b1c2d3e4f')).toBe(true);
  });

  it.each(['I', 'L', 'O', 'U'])('rejects letter %s', (letter) => {
    expect(isUlid(`01HZY8QK3V5W7X9A0B1C2D3E4${letter}`)).toBe(false);
  });

  it('rejects time above 48 bits', () => {
    expect(isUlid('81HZY8QK3V5W7X9A0B1C2D3E4F')).toBe(false);
  });

  it.each([25, 27])('rejects %i characters', (length) => {
    expect(isUlid('0'.repeat(length))).toBe(false);
  });
});

describe('UlidFactory', () => {
  it('generates valid ULID', () => {
    expect(isUlid(new UlidFactory().next())).toBe(true);
  });

  it('encodes time in prefix', () => {
    const now = Date.UTC(2024, 5, 1, 12, 0, 0, 123);
    expect(timeOf(new UlidFactory().next(now))).toBe(now);
  });

  it('increases within one millisecond', () => {
    const factory = new UlidFactory();
    const ids = Array.from({ length: 1000 }, () => factory.next(1_700_000_000_000));
    const outOfOrder = ids.filter((id, index) => index > 0 && id <= ids[index - 1]!);
    expect(outOfOrder).toEqual([]);
  });

  it('keeps time within one millisecond', () => {
    const factory = new UlidFactory();
    const ids = Array.from({ length: 1000 }, () => factory.next(1_700_000_000_000));
    expect(new Set(ids.map(timeOf))).toEqual(new Set([1_700_000_000_000]));
  });

  it('draws new bits past one pool', () => {
    const factory = new UlidFactory();
    const start = 1_700_000_000_000;
    const ids = Array.from({ length: 1000 }, (_, index) => factory.next(start + index));
    expect(new Set(ids.map((id) => id.slice(10))).size).toBe(1000);
    expect(ids.map(timeOf)).toEqual(ids.map((_, index) => start + index));
  });

  it('takes ten pooled bytes per millisecond', async () => {
    await jest.isolateModulesAsync(async () => {
      let fills = 0;
      jest.doMock('node:crypto', () => ({
        randomFillSync: (target: Uint8Array) => {
          fills += 1;
          for (let i = 0; i < target.length; i++) {
            target[i] = (i + fills * 100) % 256;
          }
          return target;
        },
      }));
      const { UlidFactory: Factory } = await import('./ulid');
      const factory = new Factory();
      const start = 1_700_000_000_000;
      const ids = Array.from({ length: 410 }, (_, index) => factory.next(start + index));
      const pooled = (fill: number, offset: number) =>
        Array.from({ length: 10 }, (_, i) => (offset + i + fill * 100) % 256);
      expect(randomBytesOf(ids[0]!)).toEqual(pooled(1, 0));
      expect(randomBytesOf(ids[1]!)).toEqual(pooled(1, 10));
      expect(randomBytesOf(ids[408]!)).toEqual(pooled(1, 4080));
      expect(randomBytesOf(ids[409]!)).toEqual(pooled(2, 0));
      expect(fills).toBe(2);
    });
  });

  it('increases when clock goes back', () => {
    const factory = new UlidFactory();
    const first = factory.next(1_700_000_000_500);
    expect(factory.next(1_700_000_000_000) > first).toBe(true);
  });

  it('increases across 100k ids', () => {
    const factory = new UlidFactory();
    let previous = '';
    let invalid = 0;
    let outOfOrder = 0;
    for (let i = 0; i < 100_000; i++) {
      const id = factory.next();
      if (!isUlid(id)) {
        invalid += 1;
      }
      if (id <= previous) {
        outOfOrder += 1;
      }
      previous = id;
    }
    expect(invalid).toBe(0);
    expect(outOfOrder).toBe(0);
  });

  it('carries random overflow into time', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('node:crypto', () => ({
        randomFillSync: (target: Uint8Array) => target.fill(0xff),
      }));
      const { UlidFactory: Factory } = await import('./ulid');
      const factory = new Factory();
      const first = factory.next(1_700_000_000_000);
      const second = factory.next(1_700_000_000_000);
      expect(first.slice(10)).toBe('Z'.repeat(16));
      expect(second).toBe(`${new Factory().next(1_700_000_000_001).slice(0, 10)}${'0'.repeat(16)}`);
    });
  });
});
