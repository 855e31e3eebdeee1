import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsPair {
  certFile: string;
  keyFile: string;
}

/**
 * Makes a self-signed certificate for 127.0.0.1 and localhost with openssl,
 * once per folder. The official customerio-node 4.x client speaks only
 * HTTPS, so the local gateway serves TLS with this pair.
 */
export function ensureSelfSignedPair(folder: string): TlsPair {
  const pair = { certFile: join(folder, 'gateway.crt'), keyFile: join(folder, 'gateway.key') };
  if (existsSync(pair.certFile) && existsSync(pair.keyFile)) {
    return pair;
  }
  mkdirSync(folder, { recursive: true });
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '365',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        pair.keyFile,
        '-out',
        pair.certFile,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    throw new Error(
      `could not create a self-signed certificate with openssl (install it with apt-get install openssl): ${(error as Error).message}`,
    );
  }
  return pair;
}
