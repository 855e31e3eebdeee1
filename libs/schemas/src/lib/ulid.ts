import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

export function isUlid(value: string): boolean {
  return ULID_PATTERN.test(value);
}

/**
 * Generates ULIDs that sort in creation order within this process: ids made
 * in the same millisecond increment the random part instead of drawing anew.
 */
export class UlidFactory {
  private lastTime = -1;
  private readonly lastRandom = new Uint8Array(10);

  next(now: number = Date.now()): string {
    if (now <= this.lastTime) {
      this.increment();
    } else {
      this.lastTime = now;
      this.lastRandom.set(randomBytes(10));
    }
    return encodeTime(this.lastTime) + encodeRandom(this.lastRandom);
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
