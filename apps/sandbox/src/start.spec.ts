import { ConfigError } from './config';
import { startSandbox, stopSandbox } from './start';
import { sendHttp } from './testing/helpers';

interface LogLine {
  level: number;
  msg: string;
  event?: string;
  address?: string;
  workspaces?: { siteId: string; region: string; rateLimitPerSecond: number }[];
  seed?: number;
  reason?: string;
  requests?: number;
  operationsAccepted?: number;
}

describe('startSandbox', () => {
  it('logs one start line and one stop line without API keys', async () => {
    const lines: string[] = [];
    const sandbox = await startSandbox(
      {
        SANDBOX_PORT: '0',
        SANDBOX_WORKSPACES: 'site-a:secret-key-a:us:50,site-b:secret-key-b:eu',
        SANDBOX_SEED: '9',
      },
      { logStream: { write: (line) => lines.push(line) } },
    );
    let stopped = false;
    try {
      expect(lines).toHaveLength(1);
      const start = JSON.parse(lines[0] ?? '') as LogLine;
      expect(start.msg).toBe('sandbox started');
      expect(start.event).toBe('start');
      expect(start.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(start.workspaces).toEqual([
        { siteId: 'site-a', region: 'us', rateLimitPerSecond: 50 },
        { siteId: 'site-b', region: 'eu', rateLimitPerSecond: 0 },
      ]);
      expect(start.seed).toBe(9);

      const auth = `Basic ${Buffer.from('site-a:secret-key-a').toString('base64')}`;
      const response = await sendHttp(start.address ?? '', {
        method: 'PUT',
        path: '/api/v1/customers/user-1',
        body: { plan: 'pro' },
        auth,
        timeoutMs: 2000,
      });
      expect(response.status).toBe(200);
      expect(response.body).toBe('{}');

      await stopSandbox(sandbox, 'SIGTERM');
      stopped = true;
      expect(lines).toHaveLength(2);
      const stop = JSON.parse(lines[1] ?? '') as LogLine;
      expect(stop).toMatchObject({
        msg: 'sandbox stopped',
        event: 'stop',
        reason: 'SIGTERM',
        requests: 1,
        operationsAccepted: 1,
      });
      expect(lines.join('')).not.toContain('secret-key');
    } finally {
      if (!stopped) {
        await sandbox.close();
      }
    }
  });

  it('rejects invalid variables before listening', async () => {
    await expect(startSandbox({ SANDBOX_PORT: 'eighty' })).rejects.toThrow(ConfigError);
  });
});
