import * as path from 'node:path';

/**
 * The file and Node options of a piscina thread's module `name` in `directory`: the compiled .js,
 * or under ts-jest/ts-node the .ts file with a loader.
 */
export function threadFile(
  directory: string,
  name: string,
): { filename: string; execArgv?: string[] } {
  const compiled = path.extname(__filename) === '.js';
  const filename = path.join(directory, `${name}${compiled ? '.js' : '.ts'}`);
  return compiled
    ? { filename }
    : { filename, execArgv: ['--require', 'ts-node/register/transpile-only'] };
}
