import { ConfigError } from '../config/app.config';

/**
 * Ends a process that could not start: a configuration error names the variable to fix, anything
 * else is reported with its stack.
 */
export function exitOnStartupFailure(program: string): (error: unknown) => never {
  return (error: unknown) => {
    const message =
      error instanceof ConfigError
        ? error.message
        : error instanceof Error
          ? error.stack
          : String(error);
    process.stderr.write(`${program}: failed to start: ${message}\n`);
    process.exit(1);
  };
}
