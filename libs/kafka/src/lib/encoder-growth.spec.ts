import { randomBytes } from 'node:crypto';
import {
  installEncoderGrowth,
  patchEncoderGrowth,
  type KafkajsEncoderClass,
} from './encoder-growth';

/* eslint-disable @typescript-eslint/no-require-imports */
const Encoder = require('kafkajs/src/protocol/encoder.js') as KafkajsEncoderClass;
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (
  options: object,
) => { encode(): Promise<{ buffer: Buffer }> };
/* eslint-enable @typescript-eslint/no-require-imports */

interface TestMessage {
  key: string;
  value: Buffer;
  timestamp: number;
  headers: Record<string, string>;
}

/** Encodes a produce request of two topics whose messages run from empty to 300 KB. */
async function encodeProduce(messagesByPartition: TestMessage[][]): Promise<Buffer> {
  const request = produceRequest({
    acks: -1,
    timeout: 30_000,
    topicData: ['events', 'batches'].map((topic) => ({
      topic,
      partitions: messagesByPartition.map((messages, partition) => ({ partition, messages })),
    })),
  });
  return (await request.encode()).buffer;
}

function testMessages(): TestMessage[][] {
  const sizes = [[0, 1, 511, 512, 513], [4095, 4096, 70_000], [300_000]];
  let timestamp = 1_700_000_000_000;
  return sizes.map((partition) =>
    partition.map((size) => {
      timestamp += 7;
      return {
        key: `person-${size}`,
        value: randomBytes(size),
        timestamp,
        headers: { origin: `size-${size}` },
      };
    }),
  );
}

describe('installEncoderGrowth', () => {
  const original = Encoder.prototype.ensureAvailable;

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('encodes produce requests as kafkajs does', async () => {
    const messages = testMessages();
    const expected = await encodeProduce(messages);

    expect(installEncoderGrowth()).toBe(true);
    expect(Encoder.prototype.ensureAvailable).not.toBe(original);
    // Buffers that were not zero-filled show 0xaa wherever the encoder skipped a byte.
    const unfilled = jest
      .spyOn(Buffer, 'allocUnsafe')
      .mockImplementation((size: number) => Buffer.alloc(size, 0xaa));

    const encoded = await encodeProduce(messages);
    expect(unfilled).toHaveBeenCalled();
    expect(encoded.length).toBe(expected.length);
    expect(encoded.equals(expected)).toBe(true);
  });

  it('installs once when called twice', () => {
    expect(installEncoderGrowth()).toBe(true);
    const installed = Encoder.prototype.ensureAvailable;
    expect(installEncoderGrowth()).toBe(true);
    expect(Encoder.prototype.ensureAvailable).toBe(installed);
  });
});

describe('patchEncoderGrowth', () => {
  function fakeEncoderClass(): KafkajsEncoderClass {
    return {
      nextPowerOfTwo: (value: number) => 1 << (32 - Math.clz32(value)),
      prototype: { ensureAvailable: () => undefined },
    };
  }

  it('changes nothing for another kafkajs release', () => {
    const encoderClass = fakeEncoderClass();
    const own = encoderClass.prototype.ensureAvailable;
    expect(patchEncoderGrowth(encoderClass, '2.2.5')).toBe(false);
    expect(encoderClass.prototype.ensureAvailable).toBe(own);
  });

  it('skips an encoder without nextPowerOfTwo', () => {
    const encoderClass = { prototype: { ensureAvailable: () => undefined } };
    const own = encoderClass.prototype.ensureAvailable;
    expect(patchEncoderGrowth(encoderClass as unknown as KafkajsEncoderClass, '2.2.4')).toBe(false);
    expect(encoderClass.prototype.ensureAvailable).toBe(own);
  });

  it('grows and keeps written bytes', () => {
    const encoderClass = fakeEncoderClass();
    expect(patchEncoderGrowth(encoderClass, '2.2.4')).toBe(true);
    const encoder = { buf: Buffer.from([1, 2, 3, 4]), offset: 3 };
    encoderClass.prototype.ensureAvailable.call(encoder, 2);
    expect(encoder.buf.length).toBe(8);
    expect([...encoder.buf.subarray(0, 3)]).toEqual([1, 2, 3]);

    const before = encoder.buf;
    encoderClass.prototype.ensureAvailable.call(encoder, 5);
    expect(encoder.buf).toBe(before);
  });
});
