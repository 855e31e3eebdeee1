import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_DIR } from './common/repository';

const TSC = require.resolve('typescript/bin/tsc');
const K6_TSCONFIG = join(ROOT_DIR, 'loadtests', 'k6', 'tsconfig.json');

/** Runs tsc on a project with --noEmit and returns its exit code and output. */
function typecheck(project: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [TSC, '-p', project, '--noEmit'], {
    cwd: ROOT_DIR,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Type-checks one script with the k6 folder's settings, from a folder under tmp/. */
function typecheckScript(source: string): { status: number | null; output: string } {
  mkdirSync(join(ROOT_DIR, 'tmp'), { recursive: true });
  const folder = mkdtempSync(join(ROOT_DIR, 'tmp', 'loadtests-k6-typecheck-'));
  try {
    writeFileSync(join(folder, 'script.ts'), source);
    writeFileSync(
      join(folder, 'tsconfig.json'),
      JSON.stringify({ extends: K6_TSCONFIG, include: ['script.ts'] }),
    );
    return typecheck(join(folder, 'tsconfig.json'));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

describe('k6 scripts', () => {
  it('type-check against @types/k6', () => {
    const result = typecheck(K6_TSCONFIG);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('fail the check on a wrong k6 call', () => {
    const result = typecheckScript(
      "import http from 'k6/http';\nexport default function (): void {\n  http.get(42);\n}\n",
    );
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/script\.ts\(3,12\): error TS2345/);
  });

  it('fail the check on an incomplete executor', () => {
    const result = typecheckScript(
      "import type { Options } from 'k6/options';\nexport const options: Options = {\n  scenarios: { steady: { executor: 'constant-arrival-rate', rate: 1, duration: '1s' } },\n};\n",
    );
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/preAllocatedVUs/);
  });

  it('fail the check on a Node.js global', () => {
    const result = typecheckScript("export const bytes = Buffer.byteLength('x');\n");
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Cannot find name 'Buffer'/);
  });
});
