import { consumersPerSender } from './stack';

describe('consumersPerSender', () => {
  it('shares six partitions among the senders', () => {
    expect(consumersPerSender(1, {})).toEqual({ SENDER_CONSUMERS: '6' });
    expect(consumersPerSender(3, {})).toEqual({ SENDER_CONSUMERS: '2' });
    expect(consumersPerSender(4, {})).toEqual({ SENDER_CONSUMERS: '1' });
  });

  it('gives each sender one consumer at least', () => {
    expect(consumersPerSender(8, {})).toEqual({ SENDER_CONSUMERS: '1' });
  });

  it('follows KAFKA_BATCHES_PARTITIONS', () => {
    expect(consumersPerSender(2, { KAFKA_BATCHES_PARTITIONS: '12' })).toEqual({
      SENDER_CONSUMERS: '6',
    });
  });

  it('keeps a SENDER_CONSUMERS already set', () => {
    expect(consumersPerSender(3, { SENDER_CONSUMERS: '5' })).toEqual({});
  });
});
