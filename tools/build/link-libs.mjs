// Makes the compiled libraries resolvable by their import names at run time.
// tsc keeps `@cio-pipeline/<lib>` imports as they are, so each one gets a stub
// package under dist/node_modules that points at the library's compiled index.
// Files tsc does not emit (the .proto definitions) are copied next to the output.
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
for (const lib of readdirSync(join(root, 'libs'))) {
  const stub = join(root, 'dist', 'node_modules', '@cio-pipeline', lib);
  mkdirSync(stub, { recursive: true });
  const manifest = { name: `@cio-pipeline/${lib}`, main: `../../../libs/${lib}/src/index.js` };
  writeFileSync(join(stub, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  const protos = join(root, 'libs', lib, 'proto');
  if (existsSync(protos)) {
    cpSync(protos, join(root, 'dist', 'libs', lib, 'proto'), { recursive: true });
  }
}
