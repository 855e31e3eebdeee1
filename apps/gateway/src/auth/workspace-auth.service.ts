import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Workspace } from '@cio-pipeline/runtime';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { TrackApiError } from '../http/track-api-error';

interface Credential {
  workspace: Workspace;
  keyDigest: Buffer;
}

/**
 * Checks Customer.io's Basic auth: site id as user name, Track API key as
 * password. Keys are compared as SHA-256 digests with `timingSafeEqual`, so
 * the time taken does not depend on how much of a key matched.
 */
@Injectable()
export class WorkspaceAuthService {
  private readonly credentials = new Map<string, Credential>();
  private readonly unknownDigest = digest('no workspace has this key');

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    for (const workspace of config.workspaces) {
      this.credentials.set(workspace.siteId, { workspace, keyDigest: digest(workspace.apiKey) });
    }
  }

  /** Returns the workspace that `authorization` proves, or throws a 401 TrackApiError. */
  authenticate(authorization: string | undefined): Workspace {
    const [siteId, apiKey] = parseBasic(authorization);
    const credential = this.credentials.get(siteId);
    // Compare even for an unknown site id, so its absence is not timed apart.
    const matches = timingSafeEqual(digest(apiKey), credential?.keyDigest ?? this.unknownDigest);
    if (credential === undefined || !matches) {
      throw TrackApiError.unauthorized(
        'site id or API key is not valid for any configured workspace',
      );
    }
    return credential.workspace;
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

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
