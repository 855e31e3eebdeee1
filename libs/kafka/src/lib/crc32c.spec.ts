import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brokersFromEnv, uniquePrefix } from '../testing/test-broker';
import { crc32c } from './crc32c';

// kafkajs's own byte-at-a-time implementation, the reference for every length.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (
  data: Buffer,
) => number;

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..', '..');
const COMPILED = join(ROOT, 'dist', 'libs', 'kafka', 'src', 'lib', 'crc32c.js');
const SOURCE = join(__dirname, 'crc32c.ts');

jest.setTimeout(60_000);

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('returns 0 for no data', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('matches kafkajs on every length up to 64', () => {
    const data = randomBytes(64);
    for (let length = 0; length <= 64; length++) {
      const slice = data.subarray(0, length);
      expect([length, crc32c(slice)]).toEqual([length, kafkajsCrc32c(slice)]);
    }
  });

  it('matches kafkajs on large buffers', () => {
    for (const length of [1000, 65_537, 1_048_583]) {
      const data = randomBytes(length);
      expect(crc32c(data)).toBe(kafkajsCrc32c(data));
    }
  });

  it('matches kafkajs on a view into a larger buffer', () => {
    const data = randomBytes(4096);
    const view = data.subarray(13, 4000);
    expect(crc32c(view)).toBe(kafkajsCrc32c(Buffer.from(view)));
  });
});

/**
 * Jest keeps a module registry of its own, so installCrc32c runs in a plain
 * Node.js process, on the compiled library, and sends to the test broker,
 * which checks every record batch's CRC-32C and rejects a wrong one.
 */
describe('installCrc32c', () => {
  const child = `
    const { crc32c, installCrc32c } = require(process.env.COMPILED);
    const mode = process.env.MODE;
    let installed;
    if (mode === 'install') {
      installed = installCrc32c();
    } else if (mode === 'late') {
      require('kafkajs/src/protocol/recordBatch/v0/index.js');
      installed = installCrc32c();
    } else {
      const path = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
      require(path);
      require.cache[path].exports = () => 12345;
    }
    const { Kafka, logLevel } = require('kafkajs');
    const kafka = new Kafka({ brokers: process.env.BROKERS.split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const producer = kafka.producer();
    const used = () => require('kafkajs/src/protocol/recordBatch/crc32C/index.js') === crc32c;
    (async () => {
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: process.env.TOPIC, numPartitions: 1 }] });
      await producer.connect();
      let sent = true, error = '';
      try {
        await producer.send({ topic: process.env.TOPIC, messages: [{ key: 'k', value: 'x'.repeat(5000) }] });
      } catch (e) { sent = false; error = e.message; }
      await producer.disconnect();
      await admin.deleteTopics({ topics: [process.env.TOPIC] });
      await admin.disconnect();
      const again = mode === 'install' ? installCrc32c() : undefined;
      console.log(JSON.stringify({ installed, used: used(), sent, error, again }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;

  async function runChild(mode: 'install' | 'late' | 'wrong') {
    if (!existsSync(COMPILED) || statSync(COMPILED).mtimeMs < statSync(SOURCE).mtimeMs) {
      throw new Error(
        `${COMPILED} is missing or older than crc32c.ts: run \`npm run build\` first (npm test does)`,
      );
    }
    const env = {
      ...process.env,
      COMPILED,
      MODE: mode,
      BROKERS: brokersFromEnv().join(','),
      TOPIC: `${uniquePrefix()}crc`,
    };
    const { stdout } = await run(process.execPath, ['-e', child], {
      cwd: ROOT,
      env,
      timeout: 45_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      installed?: boolean;
      used: boolean;
      sent: boolean;
      error: string;
      again?: boolean;
    };
  }

  it('replaces the checksum of kafkajs, and the broker accepts it', async () => {
    const result = await runChild('install');
    expect(result.installed).toBe(true);
    expect(result.used).toBe(true);
    expect(result.error).toBe('');
    expect(result.sent).toBe(true);
    expect(result.again).toBe(true);
  });

  it('leaves kafkajs alone once it loaded record batches', async () => {
    const result = await runChild('late');
    expect(result.installed).toBe(false);
    expect(result.used).toBe(false);
    expect(result.error).toBe('');
    expect(result.sent).toBe(true);
  });

  it('sends to a broker that rejects a wrong checksum', async () => {
    const result = await runChild('wrong');
    expect(result.sent).toBe(false);
    expect(result.error).toMatch(/CRC|corrupt/i);
  });
});
