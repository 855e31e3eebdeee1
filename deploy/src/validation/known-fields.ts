import { dirname, join } from 'node:path';
import * as ts from 'typescript';
import { describeObject, type KubeObject } from '../kustomize/json';
import { typeOf } from './models';

/*
 * The JSON schemas in kubernetes-models accept fields they do not define, as
 * Kubernetes's OpenAPI does, so a misspelled field such as `readinesProbe`
 * passes them and is silently dropped by the API server. This check catches
 * such fields as `kubectl apply --validate=strict` would: it assigns each
 * object as an object literal to its kind's TypeScript interface and reports
 * TypeScript's excess-property and type errors.
 */

const VIRTUAL_FILE = join(__dirname, '__rendered-objects__.ts');

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  lib: ['lib.es2022.d.ts'],
  types: [],
};

/** Returns one message per field that an object's kind does not define or that has the wrong type. */
export function findUnknownFields(objects: { source: string; object: KubeObject }[]): string[] {
  const statements: string[] = [];
  const ranges: { start: number; end: number; label: string }[] = [];
  let offset = 0;
  const problems: string[] = [];
  objects.forEach(({ source, object }, index) => {
    const label = `${source}: ${describeObject(object)}`;
    const type = typeOf(object);
    if (type === undefined) {
      problems.push(`${label}: no TypeScript type to check its fields against`);
      return;
    }
    const statement = `export const object${index}: import(${JSON.stringify(type.module)}).${type.type} = ${JSON.stringify(object, null, 2)};\n`;
    statements.push(statement);
    ranges.push({ start: offset, end: offset + statement.length, label });
    offset += statement.length;
  });

  const text = statements.join('');
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError) =>
    fileName === VIRTUAL_FILE
      ? ts.createSourceFile(fileName, text, languageVersion, true)
      : getSourceFile(fileName, languageVersion, onError);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => fileName === VIRTUAL_FILE || fileExists(fileName);
  host.getCurrentDirectory = () => dirname(VIRTUAL_FILE);

  const program = ts.createProgram([VIRTUAL_FILE], COMPILER_OPTIONS, host);
  const diagnostics = [
    ...program.getSyntacticDiagnostics(),
    ...program.getSemanticDiagnostics(),
    ...program.getGlobalDiagnostics(),
  ];
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    const start = diagnostic.start;
    const range =
      diagnostic.file?.fileName === VIRTUAL_FILE && start !== undefined
        ? ranges.find((candidate) => start >= candidate.start && start < candidate.end)
        : undefined;
    problems.push(range === undefined ? message : `${range.label}: ${message}`);
  }
  return problems;
}
