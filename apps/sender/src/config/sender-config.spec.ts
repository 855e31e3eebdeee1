import { readSenderConfig } from './sender-config';

const WORKSPACES = { CIO_WORKSPACES: 'site-a:key-a:us' };

describe('readSenderConfig', () => {
  it('defaults to one consumer per partition', () => {
    expect(readSenderConfig({ ...WORKSPACES }).consumers).toBe(6);
    expect(readSenderConfig({ ...WORKSPACES, KAFKA_BATCHES_PARTITIONS: '3' }).consumers).toBe(3);
  });

  it('caps the default consumers at 64', () => {
    const config = readSenderConfig({ ...WORKSPACES, KAFKA_BATCHES_PARTITIONS: '200' });
    expect(config.consumers).toBe(64);
  });

  it('takes consumers from SENDER_CONSUMERS', () => {
    expect(readSenderConfig({ ...WORKSPACES, SENDER_CONSUMERS: '2' }).consumers).toBe(2);
  });

  it('rejects zero consumers', () => {
    expect(() => readSenderConfig({ ...WORKSPACES, SENDER_CONSUMERS: '0' })).toThrow(
      'SENDER_CONSUMERS',
    );
  });

  it('reads the transit allowance', () => {
    const config = readSenderConfig({ ...WORKSPACES, SENDER_TRANSIT_ALLOWANCE_MS: '80' });
    expect(config.limiter.transitAllowanceMs).toBe(80);
    expect(readSenderConfig({ ...WORKSPACES }).limiter.transitAllowanceMs).toBe(50);
  });
});
