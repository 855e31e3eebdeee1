import { join } from 'node:path';
import {
  ScaledObject,
  type IScaledObject,
} from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { KubeObject } from '../kustomize/json';
import { validateKafkaTopic } from './strimzi';

/**
 * Validation of one kind that deploy/ renders: the JSON schemas compiled
 * into kubernetes-models (Kubernetes's OpenAPI) and @kubernetes-models/keda
 * (KEDA's CRDs), run offline, plus the module and type name that
 * `findUnknownFields` type-checks against.
 */
interface KindValidator {
  validate: (object: KubeObject) => string[];
  module: string;
  type: string;
}

const KINDS: Readonly<Record<string, KindValidator>> = {
  'apps/v1 Deployment': {
    validate: (object) => validateModel(() => new Deployment(object)),
    module: 'kubernetes-models/apps/v1/Deployment',
    type: 'IDeployment',
  },
  'v1 Service': {
    validate: (object) => validateModel(() => new Service(object)),
    module: 'kubernetes-models/v1/Service',
    type: 'IService',
  },
  'v1 ConfigMap': {
    validate: (object) => validateModel(() => new ConfigMap(object)),
    module: 'kubernetes-models/v1/ConfigMap',
    type: 'IConfigMap',
  },
  'v1 Secret': {
    validate: (object) => validateModel(() => new Secret(object)),
    module: 'kubernetes-models/v1/Secret',
    type: 'ISecret',
  },
  'policy/v1 PodDisruptionBudget': {
    validate: (object) => validateModel(() => new PodDisruptionBudget(object)),
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'autoscaling/v2 HorizontalPodAutoscaler': {
    validate: (object) => validateModel(() => new HorizontalPodAutoscaler(object)),
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
  'keda.sh/v1alpha1 ScaledObject': {
    validate: (object) => validateModel(() => new ScaledObject(object as unknown as IScaledObject)),
    module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
    type: 'IScaledObject',
  },
  'kafka.strimzi.io/v1beta2 KafkaTopic': {
    validate: validateKafkaTopic,
    module: join(__dirname, 'strimzi'),
    type: 'KafkaTopic',
  },
};

/** Returns the schema errors of an object; an unknown apiVersion and kind is an error too. */
export function validateObject(object: KubeObject): string[] {
  const validator = KINDS[`${object.apiVersion} ${object.kind}`];
  if (validator === undefined) {
    return [
      `no schema for ${object.apiVersion} ${object.kind}: add it to deploy/src/validation/models.ts`,
    ];
  }
  return validator.validate(object);
}

/** Returns the module and interface of an object's kind, for the type check of its fields. */
export function typeOf(object: KubeObject): { module: string; type: string } | undefined {
  const validator = KINDS[`${object.apiVersion} ${object.kind}`];
  return validator === undefined ? undefined : { module: validator.module, type: validator.type };
}

function validateModel(create: () => { validate(): void }): string[] {
  try {
    create().validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}
