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

  it('draws new random bits for each new millisecond, past one pool of them', () => {
    const factory = new UlidFactory();
    const start = 1_700_000_000_000;
    const ids = Array.from({ length: 1000 }, (_, index) => factory.next(start + index));
    expect(new Set(ids.map((id) => id.slice(10))).size).toBe(1000);
    expect(ids.map(timeOf)).toEqual(ids.map((_, index) => start + index));
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
