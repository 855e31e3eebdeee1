import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Workspace } from '@cio-pipeline/runtime';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { TrackApiError } from '../http/track-api-error';

interface Credential {
  workspace: Workspace | undefined;
  /** The key's UTF-8 bytes, zero-padded to the slot size. */
  slot: Buffer;
  keyBytes: number;
}

/**
 * Checks Customer.io's Basic auth: site id as user name, Track API key as
 * password. Keys are compared in zero-padded slots as long as the longest
 * configured key with `timingSafeEqual`, then by length, so the time taken
 * depends on the received key's length but not on how much of a key matched.
 */
@Injectable()
export class WorkspaceAuthService {
  private readonly credentials = new Map<string, Credential>();
  private readonly slotBytes: number;
  private readonly receivedKey: Buffer;
  /** Compared against when the site id is unknown, so its absence is not timed apart. */
  private readonly unknown: Credential;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.slotBytes = Math.max(
      1,
      ...config.workspaces.map((workspace) => Buffer.byteLength(workspace.apiKey, 'utf8')),
    );
    this.receivedKey = Buffer.alloc(this.slotBytes);
    for (const workspace of config.workspaces) {
      this.credentials.set(workspace.siteId, this.credential(workspace, workspace.apiKey));
    }
    // A length no key has: the unknown credential never matches.
    this.unknown = { ...this.credential(undefined, ''), keyBytes: -1 };
  }

  /** Returns the workspace that `authorization` proves, or throws a 401 TrackApiError. */
  authenticate(authorization: string | undefined): Workspace {
    const [siteId, apiKey] = parseBasic(authorization);
    const credential = this.credentials.get(siteId) ?? this.unknown;
    this.receivedKey.fill(0);
    // The write stops at the slot's size, and a longer key then fails the length check.
    this.receivedKey.write(apiKey, 'utf8');
    const sameBytes = timingSafeEqual(this.receivedKey, credential.slot);
    const sameLength = Buffer.byteLength(apiKey, 'utf8') === credential.keyBytes;
    // Cleared so that a valid key does not stay in memory until the next call.
    this.receivedKey.fill(0);
    const workspace = credential.workspace;
    if (workspace === undefined || !sameBytes || !sameLength) {
      throw TrackApiError.unauthorized(
        'site id or API key is not valid for any configured workspace',
      );
    }
    return workspace;
  }

  private credential(workspace: Workspace | undefined, apiKey: string): Credential {
    const slot = Buffer.alloc(this.slotBytes);
    slot.write(apiKey, 'utf8');
    return { workspace, slot, keyBytes: Buffer.byteLength(apiKey, 'utf8') };
  }
}

function parseBasic(authorization: string | undefined): [string, string] {
  if (authorization === undefined || authorization === '') {
    throw TrackApiError.unauthorized(
      'Authorization header is missing: use Basic auth with site id and API key',
    );
  }
  const [scheme, encoded, ...rest] = authorization.trim().split(/\s+/);
  if (scheme?.toLowerCase() !== 'basic' || encoded === undefined || rest.length > 0) {
    throw TrackApiError.unauthorized(
      'Authorization header must be "Basic <base64 of site_id:api_key>"',
    );
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw TrackApiError.unauthorized('Authorization header holds invalid base64');
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw TrackApiError.unauthorized('Basic credentials must be "site_id:api_key"');
  }
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}
