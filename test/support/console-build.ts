import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * Builds the console into dist/console, where the app serves it from, as `npm run build` does
 * (npm test runs before the build in CI). Returns what the build printed.
 */
export function buildConsole(): string {
  const root = path.resolve(__dirname, '..', '..');
  return execFileSync(process.execPath, [path.join(root, 'console', 'build.mjs')], {
    cwd: root,
    encoding: 'utf8',
  });
}
