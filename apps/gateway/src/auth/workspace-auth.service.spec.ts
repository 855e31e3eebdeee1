import type { GatewayConfig } from '../config/gateway-config';
import { TrackApiError } from '../http/track-api-error';
import { basicAuth } from '../testing/gateway-test-kit';
import { WorkspaceAuthService } from './workspace-auth.service';

const SHORT = { siteId: 'site-short', apiKey: 'k1', region: 'us' as const, rateLimit: 100 };
const LONG = {
  siteId: 'site-long',
  apiKey: 'key-0123456789abcdef-é-long',
  region: 'eu' as const,
  rateLimit: 100,
};

function service(): WorkspaceAuthService {
  return new WorkspaceAuthService({ workspaces: [SHORT, LONG] } as unknown as GatewayConfig);
}

describe('WorkspaceAuthService', () => {
  it.each([SHORT, LONG])('accepts the key of $siteId', (workspace) => {
    expect(service().authenticate(basicAuth(workspace.siteId, workspace.apiKey))).toBe(workspace);
  });

  it('accepts workspaces in turn', () => {
    const auth = service();
    for (let i = 0; i < 3; i++) {
      expect(auth.authenticate(basicAuth(LONG.siteId, LONG.apiKey)).siteId).toBe(LONG.siteId);
      expect(auth.authenticate(basicAuth(SHORT.siteId, SHORT.apiKey)).siteId).toBe(SHORT.siteId);
    }
  });

  it.each([
    ['a prefix of the key', LONG.siteId, LONG.apiKey.slice(0, -1)],
    ['the key with its last byte changed', LONG.siteId, `${LONG.apiKey.slice(0, -1)}h`],
    ['the key with a byte more', SHORT.siteId, `${SHORT.apiKey}x`],
    ['the key with a trailing NUL', SHORT.siteId, `${SHORT.apiKey}\u0000`],
    ['a key longer than any configured', LONG.siteId, `${LONG.apiKey}${'x'.repeat(100)}`],
    ["another workspace's key", SHORT.siteId, LONG.apiKey],
    ['an empty key', SHORT.siteId, ''],
    ['an unknown site id with a valid key', 'site-other', SHORT.apiKey],
    ['an unknown site id with an empty key', 'site-other', ''],
  ])('rejects %s with 401', (_name, siteId, apiKey) => {
    expect(statusOf(() => service().authenticate(basicAuth(siteId, apiKey)))).toBe(401);
  });

  function statusOf(call: () => unknown): number | undefined {
    try {
      call();
      return undefined;
    } catch (error) {
      return error instanceof TrackApiError ? error.getStatus() : undefined;
    }
  }
});
