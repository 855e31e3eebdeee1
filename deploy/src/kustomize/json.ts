/** Values a YAML manifest can hold once parsed as JSON. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

export interface JsonObject {
  [key: string]: JsonValue;
}

/** A Kubernetes object: any JSON object with apiVersion, kind and metadata.name. */
export interface KubeObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isKubeObject(value: unknown): value is KubeObject {
  return (
    isJsonObject(value) &&
    typeof value['apiVersion'] === 'string' &&
    typeof value['kind'] === 'string' &&
    isJsonObject(value['metadata']) &&
    typeof value['metadata']['name'] === 'string'
  );
}

/** `apiVersion/kind/name`, plus the namespace when set: how errors name an object. */
export function describeObject(object: KubeObject): string {
  const namespace = object.metadata.namespace;
  const name =
    namespace === undefined ? object.metadata.name : `${namespace}/${object.metadata.name}`;
  return `${object.apiVersion} ${object.kind} ${name}`;
}

/** Deep copy of a JSON value. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
