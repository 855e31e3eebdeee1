import { resolve } from 'node:path';

/** The repository's root folder, two levels above this file's `deploy/src`. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

export const DEPLOY_DIR = resolve(REPO_ROOT, 'deploy');
