import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseProfile, type Profile } from '../workload/profile';

/** The repository root: the nearest folder above this file that contains nx.json. */
export const ROOT_DIR = findRoot(__dirname);

function findRoot(start: string): string {
  let folder = start;
  while (!existsSync(join(folder, 'nx.json'))) {
    const parent = dirname(folder);
    if (parent === folder) {
      throw new Error(`no nx.json above ${start}: run from inside the repository`);
    }
    folder = parent;
  }
  return folder;
}

/**
 * Returns the file of a profile: a name such as `default` means
 * loadtests/profiles/<name>.json, anything else is a path from the current folder.
 */
export function profileFileOf(profile: string): string {
  if (/^[\w-]+$/.test(profile)) {
    return join(ROOT_DIR, 'loadtests', 'profiles', `${profile}.json`);
  }
  return isAbsolute(profile) ? profile : resolve(profile);
}

/** Reads and checks a profile given by name or path. */
export function loadProfile(profile: string): { profile: Profile; file: string } {
  const file = profileFileOf(profile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read traffic profile ${file}: ${(error as Error).message}. Set PROFILE to a name in loadtests/profiles/ or to a JSON file`,
    );
  }
  return { profile: parseProfile(text, file), file };
}
