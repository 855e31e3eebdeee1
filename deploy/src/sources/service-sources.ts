import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../paths';

/*
 * Facts about the services read from their TypeScript sources as text, so the
 * manifests are checked against what the code does without importing it: the
 * deploy project may not depend on apps (lint's module boundaries).
 */

/** The sources one app runs: its own, plus every library when it imports any `@cio-pipeline/` one. */
export class AppSources {
  readonly files: ReadonlyMap<string, string>;

  constructor(readonly app: string) {
    const own = readTree(join(REPO_ROOT, 'apps', app, 'src'));
    if (own.size === 0) {
      throw new Error(`no sources found under apps/${app}/src`);
    }
    const usesLibraries = [...own.values()].some((text) => text.includes("from '@cio-pipeline/"));
    const libraries = usesLibraries ? readTree(join(REPO_ROOT, 'libs')) : new Map<string, string>();
    this.files = new Map([...own, ...libraries]);
  }

  get text(): string {
    return [...this.files.values()].join('\n');
  }

  /**
   * Checks whether the sources name an environment variable: as a quoted literal
   * (`'GATEWAY_PORT'`), or as a quoted prefix plus a template literal's tail,
   * as libs/kafka builds `${setting}_PARTITIONS` from 'KAFKA_OPERATIONS'.
   * This is a text search, so a name that only appears in a message counts too.
   */
  readsSetting(name: string): boolean {
    const text = this.text;
    if (new RegExp(`['"\`]${name}['"\`]`).test(text)) {
      return true;
    }
    for (let split = 1; split < name.length; split++) {
      const prefix = name.slice(0, split);
      const suffix = name.slice(split);
      if (text.includes(`'${prefix}'`) && text.includes(`}${suffix}\``)) {
        return true;
      }
    }
    return false;
  }

  /** Returns the default of `env.number('NAME', default, …)`, evaluating products such as `64 * 1024`. */
  numberDefault(name: string): number | undefined {
    const match = new RegExp(`['"]${name}['"]\\s*,\\s*([\\d_*\\s]+?)\\s*[,)]`).exec(this.text);
    return match?.[1] === undefined ? undefined : evaluateProduct(match[1]);
  }

  /** Returns the default of `env.string('NAME', 'default')`. */
  stringDefault(name: string): string | undefined {
    return new RegExp(`['"]${name}['"]\\s*,\\s*'([^']*)'`).exec(this.text)?.[1];
  }

  /**
   * GET routes of the NestJS controllers that the app's modules register in
   * `controllers: [...]`: `@Controller('health')` with `@Get('live')` gives
   * /health/live. A prefix set with `setGlobalPrefix` is not applied, so
   * `usesGlobalPrefix` must be false for these routes to hold.
   */
  nestGetRoutes(): string[] {
    const registered = new Set<string>();
    for (const [file, text] of this.files) {
      if (!file.startsWith(`apps/${this.app}/`)) {
        continue;
      }
      for (const list of text.matchAll(/controllers:\s*\[([^\]]*)\]/g)) {
        for (const name of (list[1] ?? '').split(',')) {
          registered.add(name.trim());
        }
      }
    }
    const routes: string[] = [];
    for (const text of this.files.values()) {
      const controller =
        /@Controller\(\s*(?:'([^']*)')?\s*\)(?:\s*@\w+\([^)]*\))*\s*export class (\w+)/.exec(text);
      if (controller === null || !registered.has(controller[2] ?? '')) {
        continue;
      }
      for (const get of text.matchAll(/@Get\(\s*(?:'([^']*)')?\s*\)/g)) {
        routes.push(joinRoute(controller[1] ?? '', get[1] ?? ''));
      }
    }
    return routes;
  }

  get usesGlobalPrefix(): boolean {
    return this.text.includes('setGlobalPrefix(');
  }

  /** GET routes registered directly on Fastify, as the sandbox does with `app.get('/path', …)`. */
  fastifyGetRoutes(): string[] {
    return [...this.text.matchAll(/\bapp\.get(?:<[^>]*>)?\(\s*'([^']+)'/g)].flatMap((match) =>
      match[1] === undefined ? [] : [match[1]],
    );
  }
}

/** A topic of the pipeline, from libs/schemas and libs/kafka. */
export interface TopicFacts {
  /** The key in `Topics`, such as `operations`. */
  key: string;
  /** Its name without `KAFKA_TOPIC_PREFIX`, such as `cio.operations.v1`. */
  name: string;
  /** Prefix of its settings, such as `KAFKA_OPERATIONS` for KAFKA_OPERATIONS_PARTITIONS. */
  setting: string;
  defaultPartitions: number;
  defaultRetentionMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Reads the topics from `Topics` in libs/schemas and their defaults from libs/kafka's settings. */
export function readTopics(): TopicFacts[] {
  const names = readRepoFile('libs/schemas/src/lib/topics.ts');
  const settings = readRepoFile('libs/kafka/src/lib/settings.ts');
  const topics: TopicFacts[] = [];
  for (const match of settings.matchAll(/topic\('(\w+)',\s*'(\w+)',\s*(\d+),\s*(\d+)\)/g)) {
    const [, key = '', setting = '', partitions = '', days = ''] = match;
    const name = new RegExp(`\\b${key}:\\s*'([^']+)'`).exec(names)?.[1];
    if (name === undefined) {
      throw new Error(`topic ${key} of libs/kafka/src/lib/settings.ts is missing from Topics`);
    }
    topics.push({
      key,
      name,
      setting,
      defaultPartitions: Number(partitions),
      defaultRetentionMs: Number(days) * DAY_MS,
    });
  }
  if (topics.length === 0) {
    throw new Error('no topic(...) calls found in libs/kafka/src/lib/settings.ts');
  }
  return topics;
}

/** kafkajs's `requestTimeout` in libs/kafka's client, in milliseconds. */
export function readKafkaRequestTimeoutMs(): number {
  const text = readRepoFile('libs/kafka/src/lib/client.ts');
  const match = /requestTimeout:\s*([\d_]+)/.exec(text);
  if (match?.[1] === undefined) {
    throw new Error('requestTimeout not found in libs/kafka/src/lib/client.ts');
  }
  return evaluateProduct(match[1]);
}

export function readRepoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(dir)) {
    return files;
  }
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== 'node_modules') {
        for (const [file, text] of readTree(path)) {
          files.set(file, text);
        }
      }
    } else if (entry.endsWith('.ts') && !entry.endsWith('.spec.ts')) {
      files.set(relative(REPO_ROOT, path), readFileSync(path, 'utf8'));
    }
  }
  return files;
}

function evaluateProduct(expression: string): number {
  return expression
    .split('*')
    .map((factor) => Number(factor.trim().replaceAll('_', '')))
    .reduce((product, factor) => product * factor, 1);
}

function joinRoute(prefix: string, path: string): string {
  const parts = [prefix, path].map((part) => part.replace(/^\/+|\/+$/g, '')).filter(Boolean);
  return `/${parts.join('/')}`;
}
