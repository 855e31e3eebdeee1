import { readFileSync } from 'node:fs';
import type { EnvReader } from './env';

export type Region = 'us' | 'eu';

/** A Customer.io workspace: its Track API credentials, region and request rate limit. */
export interface Workspace {
  siteId: string;
  apiKey: string;
  region: Region;
  /** Requests per second that Customer.io allows this workspace. */
  rateLimit: number;
}

export const DEFAULT_RATE_LIMIT = 100;

/**
 * Reads workspaces from `CIO_WORKSPACES_FILE` (a JSON array of workspaces) or
 * from `CIO_WORKSPACES`: `siteId:apiKey[:region[:rateLimit]]`, comma-separated.
 * Problems are reported without the API key.
 */
export function readWorkspaces(env: EnvReader, fallback: string): Workspace[] {
  const file = env.optionalString('CIO_WORKSPACES_FILE');
  const entries =
    file === undefined
      ? parseList(env, env.string('CIO_WORKSPACES', fallback))
      : readFile(env, file);
  const seen = new Set<string>();
  for (const workspace of entries) {
    if (seen.has(workspace.siteId)) {
      env.report(`workspace ${workspace.siteId} is configured twice: site ids must be unique`);
    }
    seen.add(workspace.siteId);
  }
  if (entries.length === 0) {
    env.report('no workspace is configured: set CIO_WORKSPACES=siteId:apiKey[:region[:rateLimit]]');
  }
  return entries;
}

function parseList(env: EnvReader, text: string): Workspace[] {
  const workspaces: Workspace[] = [];
  text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .forEach((entry, index) => {
      const [siteId = '', apiKey = '', region = 'us', rate = String(DEFAULT_RATE_LIMIT)] =
        entry.split(':');
      const workspace = checkWorkspace(env, `CIO_WORKSPACES entry ${index + 1}`, {
        siteId,
        apiKey,
        region,
        // A rate that is not a number stays text, so the error shows what was written.
        rateLimit: /^-?\d+(\.\d+)?$/.test(rate) ? Number(rate) : rate,
      });
      if (workspace !== undefined) {
        workspaces.push(workspace);
      }
    });
  return workspaces;
}

function readFile(env: EnvReader, file: string): Workspace[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    // JSON.parse's message quotes the text around the error, which may be an API key.
    const reason =
      error instanceof SyntaxError
        ? 'is not valid JSON'
        : `could not be read: ${(error as Error).message}`;
    env.report(`CIO_WORKSPACES_FILE ${file} ${reason}`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    env.report(`CIO_WORKSPACES_FILE ${file} must hold a JSON array of workspaces`);
    return [];
  }
  const workspaces: Workspace[] = [];
  parsed.forEach((item: unknown, index) => {
    const record = (typeof item === 'object' && item !== null ? item : {}) as Record<
      string,
      unknown
    >;
    const workspace = checkWorkspace(env, `CIO_WORKSPACES_FILE item ${index}`, {
      siteId: record['siteId'],
      apiKey: record['apiKey'],
      region: record['region'] ?? 'us',
      rateLimit: record['rateLimit'] ?? DEFAULT_RATE_LIMIT,
    });
    if (workspace !== undefined) {
      workspaces.push(workspace);
    }
  });
  return workspaces;
}

function checkWorkspace(
  env: EnvReader,
  where: string,
  raw: Record<'siteId' | 'apiKey' | 'region' | 'rateLimit', unknown>,
): Workspace | undefined {
  const problems: string[] = [];
  if (typeof raw.siteId !== 'string' || raw.siteId === '') {
    problems.push('site id is missing');
  }
  if (typeof raw.apiKey !== 'string' || raw.apiKey === '') {
    problems.push('API key is missing');
  }
  if (raw.region !== 'us' && raw.region !== 'eu') {
    problems.push(`region ${JSON.stringify(raw.region)} is invalid: expected us or eu`);
  }
  const rate = raw.rateLimit;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    problems.push(
      `rate limit ${JSON.stringify(rate)} is invalid: expected requests per second above 0`,
    );
  }
  if (problems.length > 0) {
    env.report(`${where}: ${problems.join('; ')}`);
    return undefined;
  }
  return {
    siteId: raw.siteId as string,
    apiKey: raw.apiKey as string,
    region: raw.region as Region,
    rateLimit: rate as number,
  };
}
