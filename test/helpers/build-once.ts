/**
 * e2e global setup: compiles the service once (`npm run build`) so CLI tests run the real
 * binary, `node dist/src/cli.js`, as an operator would.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export default async function setup() {
  const started = Date.now();
  await promisify(execFile)('npm', ['run', '--silent', 'build'], { cwd: process.cwd() });
  process.stdout.write(`[e2e] built dist/ in ${Date.now() - started}ms\n`);
}
