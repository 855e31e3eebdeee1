import { join } from 'node:path';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { describeObject, type KubeObject } from '../kustomize/json';
import { renderKustomization } from '../kustomize/render';
import { DEPLOY_DIR } from '../paths';
import { readKafkaRequestTimeoutMs, readTopics } from '../sources/service-sources';
import { findUnknownFields } from '../validation/known-fields';
import { validateObject } from '../validation/models';
import type { KafkaTopic } from '../validation/strimzi';
import {
  autoscalersOf,
  containersOf,
  deploymentsOf,
  literalEnv,
  objectsOfKind,
  resolvePort,
  selects,
  type ContainerView,
} from './inspect';
import {
  isServiceName,
  listenPorts,
  numberSetting,
  SERVICES,
  sourcesOf,
  stringSetting,
  type ServiceName,
} from './services';

/** The overlays under deploy/overlays, each rendered and checked as a whole. */
const OVERLAYS = ['local', 'production', 'production-lag-hpa'] as const;
type Overlay = (typeof OVERLAYS)[number];

/** The overlays that must work without credentials in git. */
const PRODUCTION_OVERLAYS: readonly Overlay[] = ['production', 'production-lag-hpa'];

/** The user the images run as (USER in deploy/docker/Dockerfile). */
const RUN_AS_USER = 10001;

/** Seconds kept free in every grace period on top of the computed shutdown bound. */
const GRACE_MARGIN_SECONDS = 1;

const renders = new Map<string, KubeObject[]>();

function render(folder: string): KubeObject[] {
  let objects = renders.get(folder);
  if (objects === undefined) {
    objects = renderKustomization(join(DEPLOY_DIR, folder));
    renders.set(folder, objects);
  }
  return objects;
}

function overlay(name: Overlay): KubeObject[] {
  return render(join('overlays', name));
}

/** Containers of the overlay's Deployments whose name is one of the apps. */
function serviceContainers(objects: KubeObject[]): { app: ServiceName; view: ContainerView }[] {
  return containersOf(objects).flatMap((view) =>
    isServiceName(view.container.name) ? [{ app: view.container.name, view }] : [],
  );
}

function label(view: ContainerView): string {
  return `Deployment ${view.deployment.metadata?.name ?? '?'} container ${view.container.name}`;
}

function deploymentView(objects: KubeObject[], app: ServiceName): ContainerView {
  const view = serviceContainers(objects).find((candidate) => candidate.app === app)?.view;
  if (view === undefined) {
    throw new Error(`no ${app} container in the rendered objects`);
  }
  return view;
}

function pipelineSettings(objects: KubeObject[]): Record<string, string> {
  const configMap = objectsOfKind<IConfigMap>(objects, 'v1', 'ConfigMap').find(
    (candidate) => candidate.metadata?.name === 'pipeline-settings',
  );
  if (configMap?.data === undefined) {
    throw new Error('ConfigMap pipeline-settings is missing from the rendered objects');
  }
  return configMap.data;
}

/** Effective partition count of a topic for the overlay's services. */
function partitionsOf(view: ContainerView, app: ServiceName, topicKey: string): number {
  const topic = readTopics().find((candidate) => candidate.key === topicKey);
  if (topic === undefined) {
    throw new Error(`topic ${topicKey} not found in libs/kafka/src/lib/settings.ts`);
  }
  return numberSetting(view, app, `${topic.setting}_PARTITIONS`) ?? topic.defaultPartitions;
}

function topicName(view: ContainerView, topicKey: string): string {
  const topic = readTopics().find((candidate) => candidate.key === topicKey);
  return `${literalEnv(view, 'KAFKA_TOPIC_PREFIX') ?? ''}${topic?.name ?? ''}`;
}

describe('kustomizations', () => {
  it.each([...OVERLAYS.map((name) => join('overlays', name)), 'base', 'topics'])(
    '%s matches the schemas',
    (folder) => {
      const problems = render(folder).flatMap((object) =>
        validateObject(object).map((error) => `${describeObject(object)}: ${error}`),
      );
      expect(problems).toEqual([]);
    },
  );

  it('sets only fields the kinds define', () => {
    const folders = [...OVERLAYS.map((name) => join('overlays', name)), 'base', 'topics'];
    const objects = folders.flatMap((folder) =>
      render(folder).map((object) => ({ source: folder, object })),
    );
    expect(findUnknownFields(objects)).toEqual([]);
  }, 60_000);
});

describe.each(OVERLAYS)('overlay %s', (name) => {
  const objects = (): KubeObject[] => overlay(name);

  it('runs every app in a Deployment', () => {
    const apps = serviceContainers(objects()).map(({ app }) => app);
    expect(apps).toEqual(expect.arrayContaining(['gateway', 'batcher', 'sender']));
  });

  it('probes the served health routes', () => {
    const problems: string[] = [];
    for (const { app, view } of serviceContainers(objects())) {
      const sources = sourcesOf(app);
      const routes = app === 'sandbox' ? sources.fastifyGetRoutes() : sources.nestGetRoutes();
      if (sources.usesGlobalPrefix) {
        problems.push(`${app} sets a global route prefix, which the route check does not apply`);
      }
      const { http } = listenPorts(view, app);
      const probes = {
        liveness: view.container.livenessProbe,
        readiness: view.container.readinessProbe,
      };
      for (const [kind, probe] of Object.entries(probes)) {
        const path = probe?.httpGet?.path;
        if (path === undefined) {
          problems.push(`${label(view)}: ${kind} probe is not an HTTP GET`);
          continue;
        }
        if (!routes.includes(path)) {
          problems.push(
            `${label(view)}: ${kind} probe path ${path} is not served; routes: ${routes.join(', ')}`,
          );
        }
        const port = resolvePort(view.container, probe?.httpGet?.port);
        if (port !== http) {
          problems.push(
            `${label(view)}: ${kind} probe port ${String(port)} is not the HTTP port ${String(http)}`,
          );
        }
      }
      if (app !== 'sandbox') {
        if (probes.liveness?.httpGet?.path !== '/health/live') {
          problems.push(`${label(view)}: liveness probe must use /health/live`);
        }
        if (probes.readiness?.httpGet?.path !== '/health/ready') {
          problems.push(`${label(view)}: readiness probe must use /health/ready`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('declares the ports the apps listen on', () => {
    const problems: string[] = [];
    for (const { app, view } of serviceContainers(objects())) {
      const { http, grpc } = listenPorts(view, app);
      if (http === undefined) {
        problems.push(
          `${label(view)}: set ${SERVICES[app].portSetting}, its default is not in the sources`,
        );
      }
      const expected = [http, grpc].filter((port) => port !== undefined).sort();
      const declared = (view.container.ports ?? []).map((port) => port.containerPort).sort();
      if (JSON.stringify(declared) !== JSON.stringify(expected)) {
        problems.push(
          `${label(view)}: declares ports ${declared.join(', ')} but listens on ${expected.join(', ')}`,
        );
      }
      if (resolvePort(view.container, 'http') !== http) {
        problems.push(`${label(view)}: the port named http must be ${String(http)}`);
      }
      const annotations = view.deployment.spec?.template.metadata?.annotations ?? {};
      if (
        annotations['prometheus.io/port'] !== undefined &&
        Number(annotations['prometheus.io/port']) !== http
      ) {
        problems.push(`${label(view)}: prometheus.io/port must be the HTTP port ${String(http)}`);
      }
      // NOTE: the scrape path is checked only for apps that register a metrics controller.
      const metricsRoutes = sourcesOf(app)
        .nestGetRoutes()
        .filter((route) => route.endsWith('/metrics'));
      const scrapePath = annotations['prometheus.io/path'];
      if (
        scrapePath !== undefined &&
        metricsRoutes.length > 0 &&
        !metricsRoutes.includes(scrapePath)
      ) {
        problems.push(
          `${label(view)}: prometheus.io/path ${scrapePath} is not served; metrics routes: ${metricsRoutes.join(', ')}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('routes Services to declared ports', () => {
    const problems: string[] = [];
    const views = containersOf(objects());
    for (const service of objectsOfKind<IService>(objects(), 'v1', 'Service')) {
      const serviceName = service.metadata?.name ?? '?';
      const targets = views.filter((view) =>
        selects(service.spec?.selector, view.deployment.spec?.template.metadata?.labels),
      );
      if (targets.length !== 1) {
        problems.push(`Service ${serviceName} selects ${targets.length} containers, expected 1`);
        continue;
      }
      const [target] = targets;
      for (const port of service.spec?.ports ?? []) {
        const containerPort =
          target === undefined
            ? undefined
            : resolvePort(target.container, port.targetPort ?? port.port);
        if (containerPort !== port.port) {
          problems.push(
            `Service ${serviceName} port ${port.port} targets ${String(containerPort)}; keep them equal`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('sets only settings the apps read', () => {
    const problems: string[] = [];
    for (const view of containersOf(objects())) {
      const app = view.container.name;
      if (!isServiceName(app)) {
        problems.push(
          `${label(view)}: container name is not one of ${Object.keys(SERVICES).join(', ')}`,
        );
        continue;
      }
      for (const variable of view.env.keys()) {
        if (!sourcesOf(app).readsSetting(variable)) {
          problems.push(
            `${label(view)}: ${variable} is not read by apps/${app} or the libraries it uses`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('listens on all interfaces', () => {
    const problems = serviceContainers(objects()).flatMap(({ app, view }) => {
      const host = literalEnv(view, SERVICES[app].hostSetting);
      return host === '0.0.0.0'
        ? []
        : [`${label(view)}: ${SERVICES[app].hostSetting} is ${String(host)}, expected 0.0.0.0`];
    });
    expect(problems).toEqual([]);
  });

  it('resolves ConfigMap and Secret references', () => {
    const problems: string[] = [];
    const secrets = objectsOfKind<ISecret>(objects(), 'v1', 'Secret');
    const configMaps = objectsOfKind<IConfigMap>(objects(), 'v1', 'ConfigMap');
    for (const view of containersOf(objects())) {
      for (const missing of view.missingConfigMaps) {
        problems.push(`${label(view)}: envFrom names ConfigMap ${missing}, which is not rendered`);
      }
      for (const [variable, source] of view.env) {
        if (source.kind === 'configMapKey') {
          const data = configMaps.find(
            (configMap) => configMap.metadata?.name === source.name,
          )?.data;
          if (data?.[source.key] === undefined) {
            problems.push(
              `${label(view)}: ${variable} names missing key ${source.key} of ConfigMap ${source.name}`,
            );
          }
        }
        if (source.kind !== 'secret') {
          continue;
        }
        const secret = secrets.find((candidate) => candidate.metadata?.name === source.name);
        if (PRODUCTION_OVERLAYS.includes(name)) {
          // Production reads credentials from a Secret created outside git.
          if (secret !== undefined) {
            problems.push(`${label(view)}: Secret ${source.name} must not be rendered in ${name}`);
          }
        } else if (
          secret?.stringData?.[source.key] === undefined &&
          secret?.data?.[source.key] === undefined
        ) {
          problems.push(
            `${label(view)}: ${variable} names missing key ${source.key} of Secret ${source.name}`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives shutdown enough grace', () => {
    const kafkaRequestSeconds = readKafkaRequestTimeoutMs() / 1000;
    const problems: string[] = [];
    for (const { app, view } of serviceContainers(objects())) {
      const grace = view.pod.terminationGracePeriodSeconds ?? 30;
      const preStop = view.container.lifecycle?.preStop?.exec?.command;
      const preStopSeconds = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
      let bound: number;
      let reason: string;
      switch (app) {
        case 'gateway': {
          const kafkaTimeout = (numberSetting(view, app, 'GATEWAY_KAFKA_TIMEOUT_MS') ?? NaN) / 1000;
          bound = preStopSeconds + kafkaTimeout;
          reason = `preStop sleep ${preStopSeconds} s + GATEWAY_KAFKA_TIMEOUT_MS ${kafkaTimeout} s`;
          if (preStopSeconds < 3) {
            problems.push(
              `${label(view)}: preStop must sleep at least 3 s so the Service stops routing first`,
            );
          }
          break;
        }
        case 'batcher':
          bound = kafkaRequestSeconds;
          reason = `one Kafka request of the final flush (${kafkaRequestSeconds} s)`;
          break;
        case 'sender': {
          const requestTimeout =
            (numberSetting(view, app, 'SENDER_REQUEST_TIMEOUT_MS') ?? NaN) / 1000;
          bound = requestTimeout + kafkaRequestSeconds;
          reason = `SENDER_REQUEST_TIMEOUT_MS ${requestTimeout} s + one Kafka request ${kafkaRequestSeconds} s`;
          break;
        }
        case 'sandbox':
          continue;
      }
      if (!(grace >= bound + GRACE_MARGIN_SECONDS)) {
        problems.push(
          `${label(view)}: terminationGracePeriodSeconds ${grace} does not exceed ${reason}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('locks down every container', () => {
    const problems: string[] = [];
    for (const view of containersOf(objects())) {
      const pod = view.pod.securityContext ?? {};
      const container = view.container.securityContext ?? {};
      const where = label(view);
      if ((container.runAsNonRoot ?? pod.runAsNonRoot) !== true) {
        problems.push(`${where}: runAsNonRoot must be true`);
      }
      if ((container.runAsUser ?? pod.runAsUser) !== RUN_AS_USER) {
        problems.push(`${where}: runAsUser must be ${RUN_AS_USER}`);
      }
      if (pod.fsGroup === undefined) {
        problems.push(`${where}: the pod must set fsGroup`);
      }
      if (container.readOnlyRootFilesystem !== true) {
        problems.push(`${where}: readOnlyRootFilesystem must be true`);
      }
      if (container.allowPrivilegeEscalation !== false) {
        problems.push(`${where}: allowPrivilegeEscalation must be false`);
      }
      if (container.privileged === true) {
        problems.push(`${where}: privileged must not be set`);
      }
      if (!(container.capabilities?.drop ?? []).includes('ALL')) {
        problems.push(`${where}: capabilities must drop ALL`);
      }
      if ((container.capabilities?.add ?? []).length > 0) {
        problems.push(`${where}: capabilities must add nothing`);
      }
      if ((container.seccompProfile ?? pod.seccompProfile)?.type !== 'RuntimeDefault') {
        problems.push(`${where}: seccompProfile must be RuntimeDefault`);
      }
      const tmp = view.container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
      const volume = view.pod.volumes?.find((candidate) => candidate.name === tmp?.name);
      if (volume?.emptyDir === undefined) {
        problems.push(`${where}: /tmp must be an emptyDir volume`);
      }
      if (view.pod.automountServiceAccountToken !== false) {
        problems.push(
          `${where}: automountServiceAccountToken must be false; no app calls the Kubernetes API`,
        );
      }
      for (const resource of ['cpu', 'memory']) {
        if (view.container.resources?.requests?.[resource] === undefined) {
          problems.push(`${where}: resources.requests.${resource} is missing`);
        }
        if (view.container.resources?.limits?.[resource] === undefined) {
          problems.push(`${where}: resources.limits.${resource} is missing`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  // A Service named gateway makes the kubelet set GATEWAY_PORT=tcp://<ip>:3000
  // in every pod of the namespace, and the gateway would read it as its port.
  it('disables service links', () => {
    const problems = deploymentsOf(objects()).flatMap((deployment) =>
      deployment.spec?.template.spec?.enableServiceLinks === false
        ? []
        : [`Deployment ${deployment.metadata?.name ?? '?'}: enableServiceLinks must be false`],
    );
    expect(problems).toEqual([]);
  });

  it('selects pods with matching labels', () => {
    const problems: string[] = [];
    const deployments = deploymentsOf(objects());
    for (const deployment of deployments) {
      if (
        !selects(deployment.spec?.selector.matchLabels, deployment.spec?.template.metadata?.labels)
      ) {
        problems.push(
          `Deployment ${deployment.metadata?.name ?? '?'}: selector does not match its pod labels`,
        );
      }
    }
    for (const budget of objectsOfKind<IPodDisruptionBudget>(
      objects(),
      'policy/v1',
      'PodDisruptionBudget',
    )) {
      const budgetName = budget.metadata?.name ?? '?';
      const matched = deployments.filter((deployment) =>
        selects(budget.spec?.selector?.matchLabels, deployment.spec?.template.metadata?.labels),
      );
      if (matched.length !== 1) {
        problems.push(
          `PodDisruptionBudget ${budgetName} selects ${matched.length} Deployments, expected 1`,
        );
      }
      if (
        (budget.spec?.minAvailable === undefined) ===
        (budget.spec?.maxUnavailable === undefined)
      ) {
        problems.push(
          `PodDisruptionBudget ${budgetName} must set exactly one of minAvailable and maxUnavailable`,
        );
      }
    }
    for (const app of ['gateway', 'batcher', 'sender']) {
      const covered = objectsOfKind<IPodDisruptionBudget>(
        objects(),
        'policy/v1',
        'PodDisruptionBudget',
      ).some((budget) => budget.metadata?.name === app);
      if (!covered) {
        problems.push(`${app} has no PodDisruptionBudget`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('scales each Deployment on one signal', () => {
    const problems: string[] = [];
    const { hpas, scaledObjects } = autoscalersOf(objects());
    const targets = [
      ...hpas.map((hpa) => hpa.spec?.scaleTargetRef.name),
      ...scaledObjects.map((scaled) => scaled.spec.scaleTargetRef.name),
    ];
    for (const deployment of deploymentsOf(objects())) {
      const deploymentName = deployment.metadata?.name ?? '?';
      const count = targets.filter((target) => target === deploymentName).length;
      if (count > 1) {
        problems.push(`Deployment ${deploymentName} has ${count} autoscalers`);
      }
      if (count === 1 && deployment.spec?.replicas !== undefined) {
        problems.push(
          `Deployment ${deploymentName} sets replicas, which would reset its autoscaler on apply`,
        );
      }
      if (count === 0 && deployment.spec?.replicas === undefined) {
        problems.push(`Deployment ${deploymentName} has neither replicas nor an autoscaler`);
      }
    }
    for (const hpa of hpas) {
      const hpaName = hpa.metadata?.name ?? '?';
      for (const metric of hpa.spec?.metrics ?? []) {
        if (metric.type === 'Resource' && hpa.spec?.scaleTargetRef.name !== 'gateway') {
          problems.push(
            `HorizontalPodAutoscaler ${hpaName} scales a Kafka consumer on ${metric.resource?.name ?? '?'}; use consumer lag`,
          );
        }
      }
      const behavior = hpa.spec?.behavior;
      problems.push(
        ...checkWindows(
          `HorizontalPodAutoscaler ${hpaName}`,
          behavior?.scaleUp?.stabilizationWindowSeconds,
          behavior?.scaleDown?.stabilizationWindowSeconds,
        ),
      );
    }
    for (const scaled of scaledObjects) {
      const behavior = scaled.spec.advanced?.horizontalPodAutoscalerConfig?.behavior;
      problems.push(
        ...checkWindows(
          `ScaledObject ${scaled.metadata?.name ?? '?'}`,
          behavior?.scaleUp?.stabilizationWindowSeconds,
          behavior?.scaleDown?.stabilizationWindowSeconds,
        ),
      );
    }
    expect(problems).toEqual([]);
  });

  it('scales the gateway on CPU and request rate', () => {
    const hpa = autoscalersOf(objects()).hpas.find(
      (candidate) => candidate.spec?.scaleTargetRef.name === 'gateway',
    );
    if (name === 'local') {
      expect(hpa).toBeUndefined();
      return;
    }
    const metrics = hpa?.spec?.metrics ?? [];
    expect(metrics.find((metric) => metric.type === 'Resource')?.resource?.name).toBe('cpu');
    expect(metrics.find((metric) => metric.type === 'Pods')?.pods?.metric.name).toBe(
      'http_requests_per_second',
    );
  });

  it('bounds the batcher by its partitions', () => {
    const view = deploymentView(objects(), 'batcher');
    const partitions = partitionsOf(view, 'batcher', 'operations');
    const group = stringSetting(view, 'batcher', 'BATCHER_GROUP_ID');
    const topic = topicName(view, 'operations');
    const { hpas, scaledObjects } = autoscalersOf(objects());
    const scaled = scaledObjects.filter(
      (candidate) => candidate.spec.scaleTargetRef.name === 'batcher',
    );
    const hpa = hpas.filter((candidate) => candidate.spec?.scaleTargetRef.name === 'batcher');
    const expectedKinds: Record<Overlay, [number, number]> = {
      local: [0, 0],
      production: [1, 0],
      'production-lag-hpa': [0, 1],
    };
    expect([scaled.length, hpa.length]).toEqual(expectedKinds[name]);
    for (const object of scaled) {
      const brokers = stringSetting(view, 'batcher', 'KAFKA_BROKERS');
      expect(checkScaledObject(object, { partitions, group, topic, brokers })).toEqual([]);
    }
    for (const object of hpa) {
      expect(checkLagHpa(object, { partitions, group, topic })).toEqual([]);
    }
  });

  it('keeps the sender fixed within partitions', () => {
    const view = deploymentView(objects(), 'sender');
    const partitions = partitionsOf(view, 'sender', 'batches');
    const { hpas, scaledObjects } = autoscalersOf(objects());
    const autoscaled = [
      ...hpas.map((hpa) => hpa.spec?.scaleTargetRef.name),
      ...scaledObjects.map((scaled) => scaled.spec.scaleTargetRef.name),
    ].includes('sender');
    expect(autoscaled).toBe(false);
    const replicas = view.deployment.spec?.replicas ?? 0;
    expect(replicas).toBeGreaterThanOrEqual(1);
    expect(replicas).toBeLessThanOrEqual(partitions);
  });

  it('gives each batches partition a sender consumer', () => {
    const view = deploymentView(objects(), 'sender');
    const partitions = partitionsOf(view, 'sender', 'batches');
    const consumers = numberSetting(view, 'sender', 'SENDER_CONSUMERS') ?? partitions;
    const replicas = view.deployment.spec?.replicas ?? 0;
    expect(replicas * consumers).toBe(partitions);
  });

  it('agrees with deploy/topics', () => {
    const settings = pipelineSettings(objects());
    const kafkaTopics = objectsOfKind<KafkaTopic>(
      render('topics'),
      'kafka.strimzi.io/v1beta2',
      'KafkaTopic',
    );
    const problems: string[] = [];
    for (const topic of readTopics()) {
      const declared = kafkaTopics.find(
        (candidate) =>
          candidate.spec.topicName === `${settings['KAFKA_TOPIC_PREFIX'] ?? ''}${topic.name}`,
      );
      if (declared === undefined) {
        problems.push(`deploy/topics has no KafkaTopic for ${topic.name}`);
        continue;
      }
      const partitions = settings[`${topic.setting}_PARTITIONS`];
      const retention = settings[`${topic.setting}_RETENTION_MS`];
      if (partitions !== undefined && Number(partitions) !== declared.spec.partitions) {
        problems.push(
          `${topic.setting}_PARTITIONS is ${partitions}, the KafkaTopic has ${String(declared.spec.partitions)}`,
        );
      }
      if (
        retention !== undefined &&
        Number(retention) !== Number(declared.spec.config?.['retention.ms'])
      ) {
        problems.push(
          `${topic.setting}_RETENTION_MS is ${retention}, the KafkaTopic has ${String(declared.spec.config?.['retention.ms'])}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('local overlay', () => {
  const objects = (): KubeObject[] => overlay('local');

  it('runs one replica each', () => {
    const replicas = deploymentsOf(objects()).map((deployment) => [
      deployment.metadata?.name,
      deployment.spec?.replicas,
    ]);
    expect(replicas).toEqual(replicas.map(([deploymentName]) => [deploymentName, 1]));
    expect(autoscalersOf(objects())).toEqual({ hpas: [], scaledObjects: [] });
  });

  it('delivers to the in-cluster sandbox', () => {
    const sender = deploymentView(objects(), 'sender');
    const sandbox = objectsOfKind<IService>(objects(), 'v1', 'Service').find(
      (service) => service.metadata?.name === 'sandbox',
    );
    const sandboxPort = sandbox?.spec?.ports?.[0]?.port;
    expect(sandboxPort).toBe(4010);
    for (const setting of ['CIO_US_URL', 'CIO_EU_URL']) {
      expect(literalEnv(sender, setting)).toBe(`http://sandbox:${String(sandboxPort)}`);
    }
    expect(deploymentView(objects(), 'sandbox').container.image).toMatch(/\/sandbox:/);
  });

  it('marks its credentials as local test data', () => {
    const secrets = objectsOfKind<ISecret>(objects(), 'v1', 'Secret');
    expect(secrets.map((secret) => secret.metadata?.name)).toEqual(['cio-workspaces']);
    const [secret] = secrets;
    expect(secret?.metadata?.annotations?.['cio-pipeline/credentials']).toBe('local-test-only');
    const workspaces = (secret?.stringData?.['CIO_WORKSPACES'] ?? '').split(',');
    const accepted = (secret?.stringData?.['SANDBOX_WORKSPACES'] ?? '').split(',');
    expect(workspaces.length).toBeGreaterThan(0);
    for (const entry of workspaces) {
      const [siteId, apiKey, region] = entry.split(':');
      // The sandbox serves the US region only, so every workspace must be a US one it accepts.
      expect(region).toBe('us');
      expect(
        accepted.some((candidate) => candidate.startsWith(`${siteId ?? ''}:${apiKey ?? ''}:`)),
      ).toBe(true);
    }
  });
});

describe.each(PRODUCTION_OVERLAYS)('production rules in %s', (name) => {
  const objects = (): KubeObject[] => overlay(name);

  it('renders no Secret', () => {
    expect(objectsOfKind<ISecret>(objects(), 'v1', 'Secret')).toEqual([]);
  });

  it('sends to the real Track hosts', () => {
    const sender = deploymentView(objects(), 'sender');
    for (const setting of ['CIO_US_URL', 'CIO_EU_URL']) {
      expect(stringSetting(sender, 'sender', setting)).toBe(
        sourcesOf('sender').stringDefault(setting),
      );
      expect(stringSetting(sender, 'sender', setting)).toMatch(
        /^https:\/\/track(-eu)?\.customer\.io$/,
      );
    }
  });

  it('keeps pods up during drains', () => {
    const problems: string[] = [];
    const { hpas, scaledObjects } = autoscalersOf(objects());
    for (const deployment of deploymentsOf(objects())) {
      const deploymentName = deployment.metadata?.name ?? '?';
      const minimum =
        deployment.spec?.replicas ??
        hpas.find((hpa) => hpa.spec?.scaleTargetRef.name === deploymentName)?.spec?.minReplicas ??
        scaledObjects.find((scaled) => scaled.spec.scaleTargetRef.name === deploymentName)?.spec
          .minReplicaCount;
      const budget = objectsOfKind<IPodDisruptionBudget>(
        objects(),
        'policy/v1',
        'PodDisruptionBudget',
      ).find((candidate) => candidate.metadata?.name === deploymentName);
      const minAvailable = budget?.spec?.minAvailable;
      if (
        typeof minAvailable !== 'number' ||
        minimum === undefined ||
        !(minAvailable >= 1 && minAvailable < minimum)
      ) {
        problems.push(
          `${deploymentName}: minAvailable ${String(minAvailable)} must be at least 1 and below the ${String(minimum)} replicas, so a drain can evict one pod`,
        );
      }
      const spread = deployment.spec?.template.spec?.topologySpreadConstraints ?? [];
      const keys = spread.map((constraint) => constraint.topologyKey).sort();
      if (
        JSON.stringify(keys) !==
        JSON.stringify(['kubernetes.io/hostname', 'topology.kubernetes.io/zone'])
      ) {
        problems.push(
          `${deploymentName}: spread over zones and hostnames, found ${keys.join(', ')}`,
        );
      }
      for (const constraint of spread) {
        if (
          !selects(
            constraint.labelSelector?.matchLabels,
            deployment.spec?.template.metadata?.labels,
          )
        ) {
          problems.push(
            `${deploymentName}: topology spread over ${constraint.topologyKey} does not select its own pods`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('pulls released images', () => {
    const images = containersOf(objects()).map((view) => view.container.image ?? '');
    for (const image of images) {
      expect(image).toMatch(/^[\w.-]+\.[a-z]+\/cio-pipeline\/[a-z]+:\d+\.\d+\.\d+$/);
    }
  });
});

describe('topics', () => {
  it('match the services’ topic defaults', () => {
    const kafkaTopics = objectsOfKind<KafkaTopic>(
      render('topics'),
      'kafka.strimzi.io/v1beta2',
      'KafkaTopic',
    );
    const settings = pipelineSettings(overlay('production'));
    const replicas = Number(settings['KAFKA_REPLICATION_FACTOR']);
    const cluster = /^([\w-]+)-kafka-bootstrap\b/.exec(settings['KAFKA_BROKERS'] ?? '')?.[1];
    expect(kafkaTopics).toHaveLength(readTopics().length);
    for (const topic of readTopics()) {
      const declared = kafkaTopics.find((candidate) => candidate.spec.topicName === topic.name);
      expect(declared?.spec.partitions).toBe(topic.defaultPartitions);
      expect(Number(declared?.spec.config?.['retention.ms'])).toBe(topic.defaultRetentionMs);
      expect(declared?.spec.replicas).toBe(replicas);
      // The services create missing topics with min.insync.replicas = min(2, replicas).
      expect(Number(declared?.spec.config?.['min.insync.replicas'])).toBe(Math.min(2, replicas));
      expect(declared?.metadata.labels?.['strimzi.io/cluster']).toBe(cluster);
    }
  });
});

function checkWindows(where: string, up: number | undefined, down: number | undefined): string[] {
  // Each scale event rebalances a whole consumer group, so scaling down waits
  // longer than scaling up to avoid flapping.
  if (up === undefined || down === undefined) {
    return [`${where}: set both stabilization windows`];
  }
  return down >= 2 * up && down >= 300
    ? []
    : [
        `${where}: scale-down window ${down} s must be at least 300 s and twice the scale-up window ${up} s`,
      ];
}

function checkScaledObject(
  scaled: IScaledObject,
  expected: {
    partitions: number;
    group: string | undefined;
    topic: string;
    brokers: string | undefined;
  },
): string[] {
  const problems: string[] = [];
  const max = scaled.spec.maxReplicaCount;
  if (max === undefined || max > expected.partitions) {
    problems.push(`maxReplicaCount ${String(max)} exceeds the ${expected.partitions} partitions`);
  }
  if ((scaled.spec.minReplicaCount ?? 0) < 1) {
    problems.push(
      'minReplicaCount must be at least 1, so batching does not wait for KEDA to activate the Deployment',
    );
  }

  const [trigger, ...others] = scaled.spec.triggers;
  if (trigger === undefined || others.length > 0 || trigger.type !== 'kafka') {
    return [...problems, 'expected exactly one kafka trigger'];
  }

  const metadata = trigger.metadata;
  const checks: [string, string | undefined, string | undefined][] = [
    ['consumerGroup', metadata['consumerGroup'], expected.group],
    ['topic', metadata['topic'], expected.topic],
    ['bootstrapServers', metadata['bootstrapServers'], expected.brokers],
  ];
  for (const [field, actual, wanted] of checks) {
    if (actual === undefined || actual !== wanted) {
      problems.push(`trigger ${field} is ${String(actual)}, expected ${String(wanted)}`);
    }
  }

  if (!/^[1-9]\d*$/.test(metadata['lagThreshold'] ?? '')) {
    problems.push(
      `lagThreshold ${String(metadata['lagThreshold'])} must be a positive whole number`,
    );
  }
  if (metadata['allowIdleConsumers'] === 'true') {
    problems.push('allowIdleConsumers would scale past the partition count');
  }
  return problems;
}

function checkLagHpa(
  hpa: IHorizontalPodAutoscaler,
  expected: { partitions: number; group: string | undefined; topic: string },
): string[] {
  const problems: string[] = [];
  if ((hpa.spec?.maxReplicas ?? Infinity) > expected.partitions) {
    problems.push(
      `maxReplicas ${String(hpa.spec?.maxReplicas)} exceeds the ${expected.partitions} partitions`,
    );
  }
  const metrics = hpa.spec?.metrics ?? [];
  const [metric] = metrics;
  if (metrics.length !== 1 || metric?.type !== 'External') {
    return [...problems, 'expected exactly one External metric'];
  }
  const selector = metric.external?.metric.selector?.matchLabels ?? {};
  if (metric.external?.metric.name !== 'kafka_consumergroup_lag') {
    problems.push(`metric ${String(metric.external?.metric.name)} is not kafka_consumergroup_lag`);
  }
  if (selector['consumergroup'] !== expected.group || selector['topic'] !== expected.topic) {
    problems.push(
      `metric selector ${JSON.stringify(selector)} must pick group ${String(expected.group)} on ${expected.topic}`,
    );
  }
  return problems;
}
