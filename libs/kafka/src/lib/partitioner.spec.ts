import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionForKey } from './partitioner';

/** Returns the partition that kafkajs's DefaultPartitioner picks for `key`. */
function kafkajsPartition(key: string, partitionCount: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: 'keys', partitionMetadata, message: { key, value: null } });
}

describe('partitionForKey', () => {
  it('matches kafkajs for generated keys', () => {
    const keys = [''];
    for (let length = 1; length <= 64; length++) {
      keys.push(randomBytes(length).toString('base64').slice(0, length));
    }
    keys.push('site-demo/email:émilie@example.com', 'site/id:人物', 'site/id:😀😀😀');
    for (const key of keys) {
      for (const count of [1, 2, 3, 6, 12, 31]) {
        expect({ key, count, partition: partitionForKey(key, count) }).toEqual({
          key,
          count,
          partition: kafkajsPartition(key, count),
        });
      }
    }
  });

  it('matches kafkajs for 5,000 random keys', () => {
    let mismatches = 0;
    for (let i = 0; i < 5000; i++) {
      const key = `site-${i % 7}/id:${randomBytes(1 + (i % 40)).toString('hex')}`;
      if (partitionForKey(key, 12) !== kafkajsPartition(key, 12)) {
        mismatches += 1;
      }
    }
    expect(mismatches).toBe(0);
  });
});

describe('murmur2', () => {
  it('hashes known inputs like the Java client', () => {
    // Expected values from testMurmur2 in the Java client's UtilsTest.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(
      -58897971,
    );
    expect(murmur2(Buffer.from([0x61, 0x62, 0x63]))).toBe(479470107);
  });
});
