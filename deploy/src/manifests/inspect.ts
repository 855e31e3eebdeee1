import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { KubeObject } from '../kustomize/json';

/*
 * Typed views of rendered objects. The casts are safe only after the objects
 * passed `validateObject`, which the manifest tests check first.
 */

export function objectsOfKind<T>(objects: KubeObject[], apiVersion: string, kind: string): T[] {
  return objects.filter(
    (object) => object.apiVersion === apiVersion && object.kind === kind,
  ) as unknown as T[];
}

export function deploymentsOf(objects: KubeObject[]): IDeployment[] {
  return objectsOfKind<IDeployment>(objects, 'apps/v1', 'Deployment');
}

export function autoscalersOf(objects: KubeObject[]): {
  hpas: IHorizontalPodAutoscaler[];
  scaledObjects: IScaledObject[];
} {
  return {
    hpas: objectsOfKind<IHorizontalPodAutoscaler>(
      objects,
      'autoscaling/v2',
      'HorizontalPodAutoscaler',
    ),
    scaledObjects: objectsOfKind<IScaledObject>(objects, 'keda.sh/v1alpha1', 'ScaledObject'),
  };
}

/** Source of the value of a container's environment variable. */
export type EnvSource =
  | { kind: 'value'; value: string }
  | { kind: 'secret'; name: string; key: string }
  | { kind: 'configMapKey'; name: string; key: string }
  | { kind: 'field' };

/** One container of a Deployment with its resolved environment. */
export interface ContainerView {
  deployment: IDeployment;
  pod: IPodSpec;
  container: IContainer;
  /** Variables from envFrom ConfigMaps, overridden by `env` entries, as the kubelet applies them. */
  env: Map<string, EnvSource>;
  /** ConfigMaps named by envFrom that the render does not contain. */
  missingConfigMaps: string[];
}

export function containersOf(objects: KubeObject[]): ContainerView[] {
  const configMaps = new Map(
    objectsOfKind<IConfigMap>(objects, 'v1', 'ConfigMap').map((configMap) => [
      configMap.metadata?.name ?? '',
      configMap,
    ]),
  );
  return deploymentsOf(objects).flatMap((deployment) => {
    const pod = deployment.spec?.template.spec;
    if (pod === undefined) {
      return [];
    }
    return pod.containers.map((container) => {
      const env = new Map<string, EnvSource>();
      const missingConfigMaps: string[] = [];
      for (const source of container.envFrom ?? []) {
        const name = source.configMapRef?.name;
        const configMap = name === undefined ? undefined : configMaps.get(name);
        if (name !== undefined && configMap === undefined) {
          missingConfigMaps.push(name);
        }
        for (const [key, value] of Object.entries(configMap?.data ?? {})) {
          env.set(`${source.prefix ?? ''}${key}`, { kind: 'value', value });
        }
      }
      for (const variable of container.env ?? []) {
        env.set(variable.name, envSourceOf(variable.value, variable.valueFrom));
      }
      return { deployment, pod, container, env, missingConfigMaps };
    });
  });
}

function envSourceOf(
  value: string | undefined,
  valueFrom: NonNullable<IContainer['env']>[number]['valueFrom'],
): EnvSource {
  if (valueFrom?.secretKeyRef !== undefined) {
    return {
      kind: 'secret',
      name: valueFrom.secretKeyRef.name ?? '',
      key: valueFrom.secretKeyRef.key,
    };
  }
  if (valueFrom?.configMapKeyRef !== undefined) {
    return {
      kind: 'configMapKey',
      name: valueFrom.configMapKeyRef.name ?? '',
      key: valueFrom.configMapKeyRef.key,
    };
  }
  return valueFrom === undefined ? { kind: 'value', value: value ?? '' } : { kind: 'field' };
}

/** Returns the literal value of a container's variable, or undefined when unset or taken from elsewhere. */
export function literalEnv(view: ContainerView, name: string): string | undefined {
  const source = view.env.get(name);
  return source?.kind === 'value' ? source.value : undefined;
}

/** Returns the container port number that a probe or Service names by number or by port name. */
export function resolvePort(
  container: IContainer,
  port: number | string | undefined,
): number | undefined {
  if (typeof port === 'number') {
    return port;
  }
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

/** Checks whether every label of `selector` is on `labels` with the same value. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels?.[key] === value);
}
