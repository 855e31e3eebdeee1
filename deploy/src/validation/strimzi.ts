import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { isJsonObject, type JsonObject } from '../kustomize/json';

/**
 * Strimzi's KafkaTopic (kafka.strimzi.io/v1beta2), written from the fields
 * and bounds of Strimzi's `io.strimzi.api.kafka.model.topic.KafkaTopicSpec`,
 * because no npm package ships its schema.
 */
export interface KafkaTopic {
  apiVersion: 'kafka.strimzi.io/v1beta2';
  kind: 'KafkaTopic';
  metadata: NonNullable<IConfigMap['metadata']>;
  spec: {
    /** The topic's name in Kafka; defaults to metadata.name. */
    topicName?: string;
    /** At least 1; cannot be lowered after creation. */
    partitions?: number;
    /** From 1 to 32767. */
    replicas?: number;
    /** Topic configuration, such as retention.ms. */
    config?: Record<string, string | number | boolean>;
  };
}

/** Returns the schema errors of a KafkaTopic: types and bounds of its spec and the cluster label. */
export function validateKafkaTopic(object: JsonObject): string[] {
  const errors: string[] = [];
  const spec = object['spec'];
  if (!isJsonObject(spec)) {
    return ['spec must be an object'];
  }
  const { topicName, partitions, replicas, config } = spec;
  if (topicName !== undefined && typeof topicName !== 'string') {
    errors.push('spec.topicName must be a string');
  }
  if (partitions !== undefined && !isIntegerIn(partitions, 1, Number.MAX_SAFE_INTEGER)) {
    errors.push('spec.partitions must be an integer of at least 1');
  }
  if (replicas !== undefined && !isIntegerIn(replicas, 1, 32_767)) {
    errors.push('spec.replicas must be an integer from 1 to 32767');
  }
  if (config !== undefined && !isJsonObject(config)) {
    errors.push('spec.config must be an object');
  }
  const metadata = object['metadata'];
  const labels = isJsonObject(metadata) ? metadata['labels'] : undefined;
  if (!isJsonObject(labels) || typeof labels['strimzi.io/cluster'] !== 'string') {
    // The Topic Operator ignores a KafkaTopic without this label.
    errors.push('metadata.labels must name the Kafka cluster in strimzi.io/cluster');
  }
  return errors;
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
