import { ROOT_DIR } from '../common/repository';
import { runK6Scenarios } from './k6-runner';

/** `npx nx run loadtests:k6`: runs the k6 scenarios against GATEWAY_URL. */
const code = runK6Scenarios({
  rootDir: ROOT_DIR,
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
process.exit(code);
