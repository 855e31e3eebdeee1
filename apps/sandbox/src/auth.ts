import { timingSafeEqual } from 'node:crypto';
import type { WorkspaceConfig } from './config';

/** Result of checking HTTP Basic credentials against the configured workspaces. */
export type AuthResult<W> =
  { kind: 'authenticated'; workspace: W } | { kind: 'rejected'; message: string };

const BASIC_SCHEME = /^basic +/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Checks an Authorization header of the form `Basic base64(siteId:apiKey)`. The rejection
 * message states whether the header is missing, malformed or has unknown credentials, and
 * never contains the key.
 */
export function authenticate<W extends { readonly config: WorkspaceConfig }>(
  header: string | undefined,
  workspaces: ReadonlyMap<string, W>,
): AuthResult<W> {
  if (header === undefined || header === '') {
    return reject(
      'missing Authorization header, expected HTTP Basic auth with site id and Track API key',
    );
  }
  const scheme = BASIC_SCHEME.exec(header);
  if (scheme === null) {
    return reject('malformed Authorization header, expected the Basic scheme');
  }
  const token = header.slice(scheme[0].length).trim();
  if (token.length % 4 !== 0 || !BASE64.test(token)) {
    return reject('malformed Authorization header, the Basic credentials are not valid base64');
  }
  const credentials = Buffer.from(token, 'base64').toString('utf8');
  const separator = credentials.indexOf(':');
  if (separator === -1) {
    return reject('malformed Authorization header, expected base64 of site_id:api_key');
  }
  const siteId = credentials.slice(0, separator);
  const apiKey = credentials.slice(separator + 1);
  const workspace = workspaces.get(siteId);
  if (workspace === undefined || !keysMatch(apiKey, workspace.config.apiKey)) {
    return reject('invalid site id or API key');
  }
  return { kind: 'authenticated', workspace };
}

function reject(detail: string): { kind: 'rejected'; message: string } {
  return { kind: 'rejected', message: `Unauthorized request: ${detail}` };
}

function keysMatch(provided: string, expected: string): boolean {
  const providedBytes = Buffer.from(provided, 'utf8');
  const expectedBytes = Buffer.from(expected, 'utf8');
  return (
    providedBytes.length === expectedBytes.length && timingSafeEqual(providedBytes, expectedBytes)
  );
}
