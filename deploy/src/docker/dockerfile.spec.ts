import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { containersOf } from '../manifests/inspect';
import { renderKustomization } from '../kustomize/render';
import { DEPLOY_DIR, REPO_ROOT } from '../paths';
import { inherited, parseDockerfile, stageChain } from './dockerfile';

const DOCKERFILE = join(DEPLOY_DIR, 'docker', 'Dockerfile');
const { args, stages } = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const IMAGE_APPS = ['gateway', 'batcher', 'sender', 'sandbox'];

/** The local overlay runs every image, the sandbox included. */
const containers = containersOf(renderKustomization(join(DEPLOY_DIR, 'overlays', 'local')));

/** Resolves `${NAME}` in a FROM line from the Dockerfile's global ARG defaults. */
function resolveBase(base: string): string {
  return base.replace(/\$\{?(\w+)\}?/g, (_match, name: string) => {
    const arg = args.find((instruction) => instruction.args.startsWith(`${name}=`));
    return arg?.args.slice(name.length + 1) ?? '';
  });
}

/** Where tsc writes an app's main.ts, from its tsconfig.build.json (outDir and rootDir). */
function compiledMain(app: string): string {
  const appDir = join(REPO_ROOT, 'apps', app);
  const config = JSON.parse(readFileSync(join(appDir, 'tsconfig.build.json'), 'utf8')) as {
    compilerOptions: { outDir: string; rootDir: string };
  };
  const main = join(appDir, 'src', 'main.ts');
  const rootDir = join(appDir, config.compilerOptions.rootDir);
  const outDir = join(appDir, config.compilerOptions.outDir);
  return relative(REPO_ROOT, join(outDir, relative(rootDir, main))).replace(/\.ts$/, '.js');
}

describe('Dockerfile', () => {
  it.each(IMAGE_APPS)('has a %s target that runs its main', (app) => {
    const chain = stageChain(stages, app);
    expect(chain.length).toBeGreaterThan(1);
    expect(JSON.parse(inherited(chain, 'CMD') ?? 'null')).toEqual(['node', compiledMain(app)]);
    expect(compiledMain(app)).toBe(`dist/apps/${app}/src/main.js`);
  });

  it.each(IMAGE_APPS)('runs %s as the manifests’ user', (app) => {
    const user = inherited(stageChain(stages, app), 'USER');
    expect(user).toBe('10001');
    const runAsUsers = containers
      .filter((view) => view.container.name === app)
      .map(
        (view) => view.container.securityContext?.runAsUser ?? view.pod.securityContext?.runAsUser,
      );
    expect(runAsUsers).toEqual([Number(user)]);
  });

  it.each(IMAGE_APPS)('builds %s with Nx and ships production dependencies', (app) => {
    const chain = stageChain(stages, app);
    const copies = chain
      .flatMap((stage) => stage.instructions)
      .filter((instruction) => instruction.keyword === 'COPY');
    const fromBuild = copies.find((instruction) =>
      /--from=(\S+)\s+\/app\/dist\s+\.\/dist$/.test(instruction.args),
    );
    const buildStage = /--from=(\S+)/.exec(fromBuild?.args ?? '')?.[1] ?? '';
    const build = stageChain(stages, buildStage).flatMap((stage) => stage.instructions);
    expect(build.map((instruction) => instruction.args)).toEqual(
      expect.arrayContaining([
        'npm ci --no-audit --no-fund',
        `npx nx run ${app}:build --output-style=static`,
      ]),
    );
    const runtimeRuns = chain
      .flatMap((stage) => stage.instructions)
      .filter((instruction) => instruction.keyword === 'RUN');
    expect(runtimeRuns.map((instruction) => instruction.args)).toEqual([
      'npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force',
    ]);
  });

  it.each(IMAGE_APPS)('exposes the ports %s declares', (app) => {
    const exposed = (inherited(stageChain(stages, app), 'EXPOSE') ?? '')
      .split(/\s+/)
      .map(Number)
      .sort();
    const declared = containers
      .filter((view) => view.container.name === app)
      .flatMap((view) => (view.container.ports ?? []).map((port) => port.containerPort))
      .sort();
    expect(exposed).toEqual(declared);
  });

  it('starts every stage from Node.js 20', () => {
    for (const stage of stages) {
      const base = resolveBase(stage.base);
      const isStage = stages.some((candidate) => candidate.name === base);
      if (!isStage) {
        expect(base).toMatch(/^node:20-(slim|alpine)$/);
      }
    }
  });

  it('names images after their targets', () => {
    for (const view of containers) {
      expect(view.container.image).toMatch(new RegExp(`/${view.container.name}:[\\w.-]+$`));
      expect(IMAGE_APPS).toContain(view.container.name);
    }
  });

  it('keeps local builds out of the context', () => {
    const ignored = readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(
      expect.arrayContaining(['.git', '**/node_modules', 'dist', '.nx', 'tmp']),
    );
  });
});
