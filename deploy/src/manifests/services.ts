import { AppSources } from '../sources/service-sources';
import { literalEnv, type ContainerView } from './inspect';

/** The apps that run in the cluster, by container name, with their listen settings. */
export const SERVICES = {
  gateway: { portSetting: 'GATEWAY_PORT', hostSetting: 'GATEWAY_HOST' },
  batcher: { portSetting: 'BATCHER_PORT', hostSetting: 'BATCHER_HOST' },
  sender: { portSetting: 'SENDER_PORT', hostSetting: 'SENDER_HOST' },
  sandbox: { portSetting: 'SANDBOX_PORT', hostSetting: 'SANDBOX_HOST' },
} as const;

export type ServiceName = keyof typeof SERVICES;

export function isServiceName(name: string): name is ServiceName {
  return Object.hasOwn(SERVICES, name);
}

const sourcesByApp = new Map<ServiceName, AppSources>();

/** Returns the app's sources, reading them once per test run. */
export function sourcesOf(app: ServiceName): AppSources {
  let sources = sourcesByApp.get(app);
  if (sources === undefined) {
    sources = new AppSources(app);
    sourcesByApp.set(app, sources);
  }
  return sources;
}

/** Returns a numeric setting as the container sees it: its literal value, else the source's default. */
export function numberSetting(
  view: ContainerView,
  app: ServiceName,
  name: string,
): number | undefined {
  const literal = literalEnv(view, name);
  return literal === undefined || literal === ''
    ? sourcesOf(app).numberDefault(name)
    : Number(literal);
}

/** Returns a string setting as the container sees it: its literal value, else the source's default. */
export function stringSetting(
  view: ContainerView,
  app: ServiceName,
  name: string,
): string | undefined {
  const literal = literalEnv(view, name);
  return literal === undefined || literal === '' ? sourcesOf(app).stringDefault(name) : literal;
}

/**
 * Returns the ports an app listens on with the container's settings: its HTTP port,
 * plus the gateway's gRPC port when its sources read GATEWAY_GRPC_PORT and
 * the value is not negative (negative turns gRPC off).
 */
export function listenPorts(
  view: ContainerView,
  app: ServiceName,
): { http?: number; grpc?: number } {
  const http = numberSetting(view, app, SERVICES[app].portSetting);
  if (app !== 'gateway' || !sourcesOf(app).readsSetting('GATEWAY_GRPC_PORT')) {
    return { ...(http === undefined ? {} : { http }) };
  }
  const grpc = numberSetting(view, app, 'GATEWAY_GRPC_PORT');
  return {
    ...(http === undefined ? {} : { http }),
    ...(grpc === undefined || grpc < 0 ? {} : { grpc }),
  };
}
