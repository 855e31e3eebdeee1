import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;
/** Size of the random pool: one fill serves 409 new milliseconds at 10 bytes each. */
const POOL_BYTES = 4096;
const RANDOM_BYTES = 10;

export function isUlid(value: string): boolean {
  return ULID_PATTERN.test(value);
}

/**
 * Generates ULIDs that sort in creation order within this process: ids made
 * in the same millisecond increment the random part instead of drawing anew.
 */
export class UlidFactory {
  private lastTime = -1;
  /** `lastTime` encoded, kept because many ids share a millisecond under load. */
  private timeText = '';
  private readonly lastRandom = new Uint8Array(RANDOM_BYTES);
  private readonly pool = new Uint8Array(POOL_BYTES);
  private poolOffset = POOL_BYTES;

  next(now: number = Date.now()): string {
    if (now <= this.lastTime) {
      this.increment();
    } else {
      this.lastTime = now;
      this.timeText = encodeTime(now);
      this.drawRandom();
    }
    return this.timeText + encodeRandom(this.lastRandom);
  }

  private drawRandom(): void {
    if (this.poolOffset + RANDOM_BYTES > POOL_BYTES) {
      randomFillSync(this.pool);
      this.poolOffset = 0;
    }
    this.lastRandom.set(this.pool.subarray(this.poolOffset, this.poolOffset + RANDOM_BYTES));
    this.poolOffset += RANDOM_BYTES;
  }

  private increment(): void {
    for (let i = this.lastRandom.length - 1; i >= 0; i--) {
      const byte = this.lastRandom[i] ?? 0;
      if (byte < 255) {
        this.lastRandom[i] = byte + 1;
        return;
      }
      this.lastRandom[i] = 0;
    }
    // 80 bits wrapped within one millisecond: move to the next millisecond.
    this.lastTime += 1;
    this.timeText = encodeTime(this.lastTime);
  }
}

function encodeTime(time: number): string {
  let text = '';
  let rest = time;
  for (let i = 0; i < 10; i++) {
    text = ALPHABET.charAt(rest % 32) + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits as 16 base-32 digits, most significant first.
  let text = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += ALPHABET.charAt((buffer >> bits) & 31);
    }
    buffer &= (1 << bits) - 1;
  }
  return text;
}
