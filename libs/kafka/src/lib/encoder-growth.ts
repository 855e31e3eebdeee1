/** The kafkajs module that serializes every request and record batch. */
const KAFKAJS_ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';
/** The kafkajs release whose encoder `growWithoutZeroFill` was checked against. */
const CHECKED_KAFKAJS_VERSION = '2.2.4';

/** The parts of kafkajs's `Encoder` that the replacement uses. */
export interface KafkajsEncoderClass {
  nextPowerOfTwo: (value: number) => number;
  prototype: { ensureAvailable: (this: KafkajsEncoder, length: number) => void };
}

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}

/**
 * Returns an `ensureAvailable` that grows the buffer to the next power of
 * two with room for `length` more bytes, as kafkajs does, without zero-filling it.
 */
function growWithoutZeroFill(
  encoderClass: KafkajsEncoderClass,
): (this: KafkajsEncoder, length: number) => void {
  return function ensureAvailable(this: KafkajsEncoder, length: number): void {
    const needed = this.offset + length;
    if (needed > this.buf.length) {
      const grown = Buffer.allocUnsafe(encoderClass.nextPowerOfTwo(needed));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
}

/**
 * Replaces `ensureAvailable` on `encoderClass` when `version` is the kafkajs
 * release it was checked against. Returns whether the encoder now grows
 * without zero-filling.
 */
export function patchEncoderGrowth(encoderClass: KafkajsEncoderClass, version: string): boolean {
  const marked = encoderClass.prototype.ensureAvailable as { grownWithoutZeroFill?: true };
  if (marked.grownWithoutZeroFill === true) {
    return true;
  }
  if (version !== CHECKED_KAFKAJS_VERSION || typeof encoderClass.nextPowerOfTwo !== 'function') {
    return false;
  }
  const replacement = Object.assign(growWithoutZeroFill(encoderClass), {
    grownWithoutZeroFill: true as const,
  });
  encoderClass.prototype.ensureAvailable = replacement;
  return true;
}

/**
 * Makes kafkajs's encoder grow its buffers with `Buffer.allocUnsafe` in
 * place of `Buffer.alloc`. The encoder writes its buffer in order from the
 * start up to its offset. It hands out only that part (`buffer` is
 * `buf.slice(0, offset)`), so no byte that a zero fill would set is ever
 * read. In CPU profiles of the gateway, the zero fill took about 5% of the
 * main thread under batch calls and 2% under single-event calls. Returns
 * false, and changes nothing, for a kafkajs release other than 2.2.4 or
 * when kafkajs has moved the module, so those keep kafkajs's own growth.
 */
export function installEncoderGrowth(): boolean {
  let encoderClass: KafkajsEncoderClass;
  let version: string;
  try {
    // kafkajs exposes neither its encoder nor an option for its buffers.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    encoderClass = require(KAFKAJS_ENCODER_MODULE) as KafkajsEncoderClass;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    version = (require('kafkajs/package.json') as { version: string }).version;
  } catch {
    return false;
  }
  return patchEncoderGrowth(encoderClass, version);
}
