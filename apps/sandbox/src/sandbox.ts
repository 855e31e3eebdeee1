import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { performance } from 'node:perf_hooks';
import {
  type LogLevel,
  type SandboxConfig,
  type SandboxConfigInput,
  resolveConfig,
} from './config';
import { installErrorHandlers } from './http-errors';
import { installJsonParser } from './json-parser';
import { registerControlRoutes } from './routes-control';
import { registerV1Routes } from './routes-v1';
import { registerV2Routes } from './routes-v2';
import { StoreOrder } from './store-order';
import { SandboxState } from './state';
import { createStatusCounter, createTrackGuard } from './track-guard';

export interface SandboxOptions {
  /** Monotonic clock in ms for rate windows, the stats window and down periods. Defaults to performance.now. */
  now?: () => number;
  /** Destination of JSON log lines, stdout by default. */
  logStream?: { write(line: string): void };
}

/** A sandbox instance: the Fastify app, its state, and helpers to start and stop it. */
export interface Sandbox {
  readonly app: FastifyInstance;
  readonly state: SandboxState;
  readonly config: SandboxConfig;
  /** Logger for lifecycle lines (start, stop, retention reached), at `config.logLevel`. */
  readonly log: FastifyBaseLogger;
  /** Listens on `config.host` and `config.port` and returns the base URL, such as http://127.0.0.1:4010. */
  listen(): Promise<string>;
  /** Stops accepting connections, ends hung requests and waits for the others to finish. */
  close(): Promise<void>;
}

/**
 * Creates a sandbox of Customer.io's Track API. Missing configuration fields take their
 * defaults (see DEFAULT_CONFIG). Tests can call `app.inject()` without listening. Raises
 * ConfigError when the configuration is invalid.
 */
export function createSandbox(
  input: SandboxConfigInput = {},
  options: SandboxOptions = {},
): Sandbox {
  const config = resolveConfig(input);
  const app = Fastify({
    logger: {
      level: frameworkLogLevel(config.logLevel),
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    },
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Long enough that an identifier over its limit, even percent-encoded, reaches the
    // handler and gets a 400 that names the limit instead of a 404.
    routerOptions: { maxParamLength: Math.max(2048, config.limits.maxIdentifierBytes * 3 + 1) },
    // Reject unknown fields in control requests instead of silently removing them.
    ajv: { customOptions: { removeAdditional: false } },
  });
  const log = app.log.child({}, { level: config.logLevel });
  const state = new SandboxState(config, options.now ?? (() => performance.now()), () => {
    log.warn(
      { event: 'retention', retentionOperations: config.retentionOperations },
      'operation retention reached: later operations are counted and de-duplicated but not stored',
    );
  });

  app.decorateRequest('workspace', null);
  app.decorateRequest('bodyBytes', 0);
  installJsonParser(app);
  installErrorHandlers(app, state);
  app.addHook('preClose', (done) => {
    state.hung.destroyAll();
    done();
  });

  registerControlRoutes(app, state);
  void app.register((trackApi, _options, done) => {
    trackApi.addHook('onRequest', createTrackGuard(state, config));
    trackApi.addHook('onResponse', createStatusCounter(state));
    // One order for both API versions, so each workspace's operations are stored as they arrived.
    const order = new StoreOrder();
    registerV1Routes(trackApi, state, config, order);
    registerV2Routes(trackApi, state, config, order);
    done();
  });

  return {
    app,
    state,
    config,
    log,
    listen: () => app.listen({ host: config.host, port: config.port }),
    close: () => app.close(),
  };
}

/**
 * Returns the level of Fastify's own logger: at most warn, so that Fastify logs errors but
 * not its "Server listening" line, which the sandbox's start line replaces.
 */
function frameworkLogLevel(level: LogLevel): LogLevel {
  switch (level) {
    case 'info':
    case 'debug':
    case 'trace':
      return 'warn';
    case 'fatal':
    case 'error':
    case 'warn':
    case 'silent':
      return level;
  }
}
