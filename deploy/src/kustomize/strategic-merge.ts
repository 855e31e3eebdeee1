import { cloneJson, isJsonObject, type JsonObject, type JsonValue } from './json';

/**
 * Kinds whose pod template and ports kustomize merges with Kubernetes's
 * strategic-merge rules. For every other kind, custom resources included,
 * kustomize has no merge keys and a list in a patch replaces the whole list.
 */
const STRATEGIC_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'Pod',
  'Service',
]);

/**
 * Merge keys of the lists in those kinds, from the `patchMergeKey` tags of the
 * Kubernetes API types (k8s.io/api core/v1). `ports` depends on its parent and
 * is handled in `mergeKeyOf`.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  topologySpreadConstraints: 'topologyKey',
};

const DIRECTIVE = '$patch';

/** Error in a patch that this subset of strategic merge does not implement. */
export class UnsupportedPatchError extends Error {
  override name = 'UnsupportedPatchError';
}

/**
 * Applies a strategic-merge patch to a copy of `target` and returns it.
 * Maps merge key by key and `null` deletes a key. Lists with a merge key merge
 * element by element (an element with `$patch: delete` removes its match, an
 * unmatched one is appended), and other lists are replaced. Other directives
 * (`$patch: replace`, `$setElementOrder`, `$retainKeys`) are rejected.
 */
export function strategicMerge(kind: string, target: JsonObject, patch: JsonObject): JsonObject {
  return mergeObjects(STRATEGIC_KINDS.has(kind) ? kind : undefined, target, patch, []);
}

function mergeObjects(
  kind: string | undefined,
  target: JsonObject,
  patch: JsonObject,
  path: string[],
): JsonObject {
  const result = cloneJson(target);
  const removed = new Set<string>();
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) {
      throw new UnsupportedPatchError(
        `unsupported directive ${key} at /${path.join('/')}: only $patch: delete on a whole object or on a list element is implemented`,
      );
    }
    if (value === null) {
      removed.add(key);
      continue;
    }
    result[key] = mergeValues(kind, result[key], value, [...path, key]);
  }
  return Object.fromEntries(Object.entries(result).filter(([key]) => !removed.has(key)));
}

function mergeValues(
  kind: string | undefined,
  target: JsonValue | undefined,
  patch: JsonValue,
  path: string[],
): JsonValue {
  if (isJsonObject(patch)) {
    return mergeObjects(kind, isJsonObject(target) ? target : {}, patch, path);
  }
  if (Array.isArray(patch)) {
    const mergeKey = kind === undefined ? undefined : mergeKeyOf(kind, path);
    if (mergeKey === undefined || !Array.isArray(target)) {
      return patch.map((element) => withoutDirectives(element, path));
    }
    return mergeLists(kind, target, patch, mergeKey, path);
  }
  return patch;
}

function mergeLists(
  kind: string | undefined,
  target: JsonValue[],
  patch: JsonValue[],
  mergeKey: string,
  path: string[],
): JsonValue[] {
  const result = cloneJson(target);
  for (const element of patch) {
    if (!isJsonObject(element) || element[mergeKey] === undefined) {
      throw new UnsupportedPatchError(
        `element of /${path.join('/')} has no merge key ${mergeKey}: ${JSON.stringify(element)}`,
      );
    }
    const key = element[mergeKey];
    const index = result.findIndex(
      (existing) => isJsonObject(existing) && existing[mergeKey] === key,
    );
    const { [DIRECTIVE]: directive, ...fields } = element;
    if (directive === 'delete') {
      if (index >= 0) {
        result.splice(index, 1);
      }
      continue;
    }
    if (directive !== undefined) {
      throw new UnsupportedPatchError(
        `unsupported $patch: ${JSON.stringify(directive)} in /${path.join('/')}`,
      );
    }
    const existing = index >= 0 ? result[index] : undefined;
    if (isJsonObject(existing)) {
      result[index] = mergeObjects(kind, existing, fields, [...path, JSON.stringify(key)]);
    } else {
      result.push(withoutDirectives(fields, path));
    }
  }
  return result;
}

function mergeKeyOf(kind: string, path: string[]): string | undefined {
  const field = path.at(-1);
  if (field === undefined) {
    return undefined;
  }
  if (field === 'ports') {
    // Container ports merge by containerPort, a Service's ports by port.
    if (path.includes('containers') || path.includes('initContainers')) {
      return 'containerPort';
    }
    return kind === 'Service' ? 'port' : undefined;
  }
  return MERGE_KEYS[field];
}

/** Copies a patch's new value without its `null` entries and rejects directives inside it. */
function withoutDirectives(value: JsonValue, path: string[]): JsonValue {
  if (Array.isArray(value)) {
    return value.map((element) => withoutDirectives(element, path));
  }
  if (!isJsonObject(value)) {
    return value;
  }
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$')) {
      throw new UnsupportedPatchError(
        `directive ${key} at /${path.join('/')} has nothing to merge with`,
      );
    }
    if (child !== null) {
      result[key] = withoutDirectives(child, [...path, key]);
    }
  }
  return result;
}
