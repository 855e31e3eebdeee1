import type { Sandbox } from './sandbox';
import {
  EU_WORKSPACE,
  US_AUTH,
  US_WORKSPACE,
  basicAuth,
  createTestSandbox,
  send,
} from './testing/helpers';

const identifyUrl = '/api/v1/customers/user-1';

describe('auth', () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = createTestSandbox({ euUrl: 'http://127.0.0.1:4999' });
  });

  afterEach(async () => {
    await sandbox.close();
  });

  it('accepts valid credentials', async () => {
    const response = await send(sandbox, 'PUT', identifyUrl, { plan: 'pro' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({});
  });

  it('accepts a lowercase basic scheme', async () => {
    const lower = US_AUTH.replace('Basic', 'basic');
    const response = await send(sandbox, 'PUT', identifyUrl, {}, lower);
    expect(response.statusCode).toBe(200);
  });

  const rejected: [string, string | null, string][] = [
    ['missing header', null, 'missing Authorization header'],
    ['wrong API key', basicAuth(US_WORKSPACE.siteId, 'wrong'), 'invalid site id or API key'],
    ['unknown site id', basicAuth('site-other', US_WORKSPACE.apiKey), 'invalid site id or API key'],
    ['bearer scheme', 'Bearer abc', 'expected the Basic scheme'],
    ['invalid base64', 'Basic ***', 'not valid base64'],
    [
      'no colon',
      `Basic ${Buffer.from('site-us').toString('base64')}`,
      'expected base64 of site_id:api_key',
    ],
    ['empty credentials', 'Basic ', 'not valid base64'],
  ];

  it.each(rejected)('rejects %s with 401', async (_name, header, detail) => {
    const response = await send(sandbox, 'PUT', identifyUrl, {}, header);
    expect(response.statusCode).toBe(401);
    const body = response.json<{ meta: { error: string } }>();
    expect(body.meta.error).toContain('Unauthorized request');
    expect(body.meta.error).toContain(detail);
    expect(response.body).not.toContain(US_WORKSPACE.apiKey);
  });

  it('stores nothing for rejected credentials', async () => {
    await send(sandbox, 'PUT', identifyUrl, {}, basicAuth(US_WORKSPACE.siteId, 'wrong'));
    expect(sandbox.state.store.stored).toBe(0);
    const stats = sandbox.state.stats();
    expect(stats.total.requests).toBe(1);
    expect(stats.total.requestsByStatus).toEqual({ '401': 1 });
    expect(stats.workspaces['site-us']?.requests).toBe(0);
  });

  it('redirects an EU workspace on a US instance', async () => {
    const auth = basicAuth(EU_WORKSPACE.siteId, EU_WORKSPACE.apiKey);
    const response = await send(sandbox, 'PUT', `${identifyUrl}?x=1`, { plan: 'pro' }, auth);
    expect(response.statusCode).toBe(307);
    expect(response.headers.location).toBe(`http://127.0.0.1:4999${identifyUrl}?x=1`);
    expect(sandbox.state.store.stored).toBe(0);
  });

  it('rejects a US workspace on an EU instance', async () => {
    const euSandbox = createTestSandbox({ region: 'eu' });
    try {
      const response = await send(euSandbox, 'PUT', identifyUrl, { plan: 'pro' });
      expect(response.statusCode).toBe(401);
      expect(response.json<{ meta: { error: string } }>().meta.error).toContain('US region');
      const euAuth = basicAuth(EU_WORKSPACE.siteId, EU_WORKSPACE.apiKey);
      const accepted = await send(euSandbox, 'PUT', identifyUrl, { plan: 'pro' }, euAuth);
      expect(accepted.statusCode).toBe(200);
    } finally {
      await euSandbox.close();
    }
  });

  it('reports the region on either host', async () => {
    const us = await send(sandbox, 'GET', '/api/v1/accounts/region');
    expect(us.statusCode).toBe(200);
    expect(us.json()).toEqual({ url: 'http://localhost:80', region: 'us', environment_id: 1 });

    const euAuth = basicAuth(EU_WORKSPACE.siteId, EU_WORKSPACE.apiKey);
    const eu = await send(sandbox, 'GET', '/api/v1/accounts/region', undefined, euAuth);
    expect(eu.statusCode).toBe(200);
    expect(eu.json()).toEqual({ url: 'http://127.0.0.1:4999', region: 'eu', environment_id: 2 });
  });

  it('requires credentials for the region endpoint', async () => {
    const response = await send(sandbox, 'GET', '/api/v1/accounts/region', undefined, null);
    expect(response.statusCode).toBe(401);
  });
});
