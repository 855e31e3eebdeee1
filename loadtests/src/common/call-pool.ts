import type { TrackApiCall } from '../workload/generator';

/** A Track API call whose body is already encoded as UTF-8, ready to send. */
export interface EncodedCall extends Omit<TrackApiCall, 'body'> {
  body: Buffer;
}

/**
 * Items built before a run and handed out in turn. Building a batch call
 * (drawing about 300 operations and serializing them) takes the load
 * generator more CPU time than sending it, and on a machine shared with the
 * stack that time is taken from the services being measured. A pool moves
 * the work before the clock starts. Each item is sent many times: the
 * gateway gives every event a new id and nothing downstream compares
 * bodies, so a repeat counts as new traffic, but only the people in the
 * pool's calls get any.
 */
export class CallPool<T> {
  /** Every item, in the order `next` hands them out. */
  readonly items: readonly T[];
  private index = 0;

  constructor(size: number, build: () => T) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`pool size must be a positive integer, got ${size}`);
    }
    this.items = Array.from({ length: size }, build);
  }

  get size(): number {
    return this.items.length;
  }

  /** Returns the next item, starting over after the last. */
  next(): T {
    const item = this.items[this.index] as T;
    this.index = (this.index + 1) % this.items.length;
    return item;
  }
}

/** Returns `call` with its body encoded once, so that each send skips the encoding. */
export function encodeCall(call: TrackApiCall): EncodedCall {
  return { ...call, body: Buffer.from(call.body, 'utf8') };
}
