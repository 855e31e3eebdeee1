import type { KubeObject } from '../kustomize/json';
import { findUnknownFields } from './known-fields';

const deployment = (container: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'app' },
  spec: {
    selector: { matchLabels: { app: 'app' } },
    template: {
      metadata: { labels: { app: 'app' } },
      spec: { containers: [{ name: 'app', image: 'app:1', ...container }] },
    },
  },
});

const kafkaTopic = (spec: Record<string, unknown>): KubeObject =>
  ({
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaTopic',
    metadata: { name: 'topic', labels: { 'strimzi.io/cluster': 'kafka' } },
    spec,
  }) as unknown as KubeObject;

describe('findUnknownFields', () => {
  it('accepts defined fields', () => {
    const objects = [
      deployment({ readinessProbe: { httpGet: { path: '/ready', port: 'http' } } }),
      kafkaTopic({ partitions: 3, replicas: 1, config: { 'retention.ms': 1000 } }),
    ];
    expect(findUnknownFields(objects.map((object) => ({ source: 'test', object })))).toEqual([]);
  }, 60_000);

  it('reports misspelled and mistyped fields', () => {
    const objects = [
      deployment({ readinesProbe: { httpGet: { path: '/ready', port: 'http' } } }),
      deployment({ ports: [{ containerPort: '3000' }] }),
      kafkaTopic({ partition: 3 }),
    ];
    const problems = findUnknownFields(objects.map((object) => ({ source: 'test', object })));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      /^test: apps\/v1 Deployment app: .*'"readinesProbe"' does not exist/,
    );
    expect(problems[1]).toMatch(
      /^test: apps\/v1 Deployment app: Type 'string' is not assignable to type 'number'/,
    );
    expect(problems[2]).toMatch(
      /^test: kafka.strimzi.io\/v1beta2 KafkaTopic topic: .*'"partition"' does not exist/,
    );
  }, 60_000);
});
