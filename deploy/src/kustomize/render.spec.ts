import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { KubeObject } from './json';
import { parseImage, renderKustomization } from './render';

/** Folders written by `writeTree`, removed after the tests. */
const roots: string[] = [];

/** Writes `files` (path relative to a new folder: YAML text) and returns the folder. */
function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'deploy-render-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

afterAll(() => {
  for (const root of roots) {
    rmSync(root, { recursive: true, force: true });
  }
});

const KUSTOMIZATION = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';
const COMPONENT = 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: example/app:1.0
          args: ['--a', '--b']
          ports:
            - containerPort: 3000
              name: http
          env:
            - name: KEEP
              value: kept
            - name: CHANGE
              value: old
        - name: sidecar
          image: example/sidecar:2.0
`;

const CONFIG_MAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  A: '1'
  B: '2'
`;

function base(): Record<string, string> {
  return {
    'base/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - deployment.yaml\n  - settings.yaml\n`,
    'base/deployment.yaml': DEPLOYMENT,
    'base/settings.yaml': CONFIG_MAP,
  };
}

function container(objects: KubeObject[], name: string): IContainer | undefined {
  const deployment = objects.find(
    (object) => object.kind === 'Deployment',
  ) as unknown as IDeployment;
  return deployment.spec?.template.spec?.containers.find((entry) => entry.name === name);
}

describe('renderKustomization', () => {
  it('merges containers and env by name', () => {
    const root = writeTree({
      ...base(),
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\npatches:\n  - path: patch.yaml\n`,
      'overlay/patch.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          args: ['--c']
          env:
            - name: CHANGE
              value: new
            - name: ADDED
              value: added
          ports:
            - containerPort: 3000
              protocol: TCP
`,
    });
    const objects = renderKustomization(join(root, 'overlay'));
    const app = container(objects, 'app');
    expect(app?.image).toBe('example/app:1.0');
    expect(app?.env).toEqual([
      { name: 'KEEP', value: 'kept' },
      { name: 'CHANGE', value: 'new' },
      { name: 'ADDED', value: 'added' },
    ]);
    expect(app?.ports).toEqual([{ containerPort: 3000, name: 'http', protocol: 'TCP' }]);
    expect(app?.args).toEqual(['--c']);
    expect(container(objects, 'sidecar')?.image).toBe('example/sidecar:2.0');
  });

  it('deletes keys, list elements and objects', () => {
    const root = writeTree({
      ...base(),
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\npatches:\n  - path: remove-sidecar.yaml\n  - path: remove-settings.yaml\n  - patch: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata:\n        name: app\n      spec:\n        template:\n          spec:\n            containers:\n              - name: app\n                args: null\n`,
      'overlay/remove-sidecar.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: sidecar
          $patch: delete
`,
      'overlay/remove-settings.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n$patch: delete\n',
    });
    const objects = renderKustomization(join(root, 'overlay'));
    expect(objects.map((object) => object.kind)).toEqual(['Deployment']);
    expect(container(objects, 'sidecar')).toBeUndefined();
    expect(container(objects, 'app')?.args).toBeUndefined();
  });

  it('applies components after resources', () => {
    const root = writeTree({
      ...base(),
      'component/kustomization.yaml': `${COMPONENT}resources:\n  - extra.yaml\npatches:\n  - path: settings.yaml\n`,
      'component/extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n',
      'component/settings.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  B: from-component\n',
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\ncomponents:\n  - ../component\npatches:\n  - path: settings.yaml\n`,
      'overlay/settings.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  A: from-overlay\n',
    });
    const objects = renderKustomization(join(root, 'overlay'));
    const settings = objects.find((object) => object.metadata.name === 'settings');
    expect(settings?.['data']).toEqual({ A: 'from-overlay', B: 'from-component' });
    expect(objects.map((object) => object.metadata.name)).toEqual(['app', 'settings', 'extra']);
  });

  it('sets image names, tags and digests', () => {
    const root = writeTree({
      ...base(),
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\nimages:\n  - name: example/app\n    newName: registry.example.com/app\n    newTag: '1.1'\n  - name: example/sidecar\n    digest: sha256:abc\n`,
    });
    const objects = renderKustomization(join(root, 'overlay'));
    expect(container(objects, 'app')?.image).toBe('registry.example.com/app:1.1');
    expect(container(objects, 'sidecar')?.image).toBe('example/sidecar@sha256:abc');
  });

  it('rejects fields outside the subset', () => {
    const root = writeTree({
      ...base(),
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\nnamePrefix: test-\n`,
    });
    expect(() => renderKustomization(join(root, 'overlay'))).toThrow(
      /field namePrefix is not implemented/,
    );
  });

  it('rejects a patch without a target', () => {
    const root = writeTree({
      ...base(),
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\npatches:\n  - path: patch.yaml\n`,
      'overlay/patch.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: missing\nspec:\n  replicas: 1\n',
    });
    expect(() => renderKustomization(join(root, 'overlay'))).toThrow(
      /expected one target .* found 0/,
    );
  });

  it('rejects a resource defined twice', () => {
    const root = writeTree({
      ...base(),
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\n  - ../base/settings.yaml\n`,
    });
    expect(() => renderKustomization(join(root, 'overlay'))).toThrow(
      /ConfigMap settings is already defined/,
    );
  });

  it('rejects a component listed as a resource', () => {
    const root = writeTree({
      ...base(),
      'component/kustomization.yaml': COMPONENT,
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\n  - ../component\n`,
    });
    expect(() => renderKustomization(join(root, 'overlay'))).toThrow(
      /expected apiVersion .* kind Kustomization/,
    );
  });

  it('rejects unsupported patch directives', () => {
    const root = writeTree({
      ...base(),
      'overlay/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../base\npatches:\n  - path: patch.yaml\n`,
      'overlay/patch.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  $patch: replace\n  A: x\n',
    });
    expect(() => renderKustomization(join(root, 'overlay'))).toThrow(
      /unsupported directive \$patch/,
    );
  });
});

describe('parseImage', () => {
  it.each([
    ['app', { name: 'app' }],
    ['app:1.0', { name: 'app', tag: '1.0' }],
    ['registry:5000/team/app', { name: 'registry:5000/team/app' }],
    [
      'registry:5000/team/app:1.0@sha256:abc',
      { name: 'registry:5000/team/app', tag: '1.0', digest: 'sha256:abc' },
    ],
  ])('splits %s', (reference, expected) => {
    expect(parseImage(reference)).toEqual(expected);
  });
});
