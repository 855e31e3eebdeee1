import { EnvReader } from '@cio-pipeline/runtime';
import { readKafkaSettings } from './settings';

function segmentBytesOf(value: string | undefined): (number | undefined)[] {
  const env = new EnvReader(value === undefined ? {} : { KAFKA_SEGMENT_BYTES: value });
  const settings = readKafkaSettings(env, 'settings-test');
  env.done();
  return Object.values(settings.topics).map((topic) => topic.segmentBytes);
}

describe('readKafkaSettings', () => {
  it('leaves the segment size to the broker by default', () => {
    expect(segmentBytesOf(undefined)).toEqual([undefined, undefined, undefined]);
  });

  it('sets KAFKA_SEGMENT_BYTES on every topic', () => {
    expect(segmentBytesOf('134217728')).toEqual([134_217_728, 134_217_728, 134_217_728]);
  });

  it.each(['1000', '2147483648', 'big'])('rejects KAFKA_SEGMENT_BYTES=%s', (value) => {
    expect(() => segmentBytesOf(value)).toThrow(/KAFKA_SEGMENT_BYTES/);
  });
});
