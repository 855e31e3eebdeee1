import { loadConfigFromEnv } from './env';
import { type Sandbox, type SandboxOptions, createSandbox } from './sandbox';

/**
 * Creates a sandbox from `SANDBOX_*` environment variables, starts listening and logs one
 * JSON line with the address, region, site ids, rate limits, faults and seed. API keys are
 * never logged. Raises ConfigError for invalid variables.
 */
export async function startSandbox(
  env: NodeJS.ProcessEnv,
  options: SandboxOptions = {},
): Promise<Sandbox> {
  const sandbox = createSandbox(loadConfigFromEnv(env), options);
  const address = await sandbox.listen();
  const { config } = sandbox;
  sandbox.log.info(
    {
      event: 'start',
      address,
      region: config.region,
      workspaces: config.workspaces.map((workspace) => ({
        siteId: workspace.siteId,
        region: workspace.region,
        rateLimitPerSecond: workspace.rateLimitPerSecond ?? config.rateLimitPerSecond,
      })),
      euUrl: config.euUrl,
      retryAfterSeconds: config.retryAfterSeconds,
      faults: config.faults,
      seed: config.seed,
      retentionOperations: config.retentionOperations,
    },
    'sandbox started',
  );
  return sandbox;
}

/** Closes the sandbox and logs one JSON line with the request and operation totals. */
export async function stopSandbox(sandbox: Sandbox, reason: string): Promise<void> {
  await sandbox.close();
  const { total } = sandbox.state.stats();
  sandbox.log.info(
    {
      event: 'stop',
      reason,
      requests: total.requests,
      operationsAccepted: total.operationsAccepted,
      duplicatesDropped: total.duplicatesDropped,
      rejectedOperations: total.rejectedOperations,
    },
    'sandbox stopped',
  );
}
