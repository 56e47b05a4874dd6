import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { NotFoundError } from '../common/errors';
import { CONSOLE_PATH } from '../common/route-policy';

/**
 * Where `npm run build` (console/build.mjs) writes the console: dist/console under the package's
 * root. Null when no package.json is above this file (a copy of the compiled code elsewhere).
 */
export function consoleBuildDir(): string | null {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', CONSOLE_PATH);
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * Serves the built console under /console/. Its assets carry their content's hash in their names,
 * so they are cached for a year; index.html is revalidated, so a new build shows at the next load.
 * Gzip and Brotli copies written by the build are sent to browsers that accept them.
 *
 * `/console` redirects to `console/`, relative, so that behind an ingress that strips a path prefix
 * the browser stays under the prefix; the console's own URLs are all relative for the same reason.
 */
export async function installConsole(
  fastify: FastifyInstance,
  root = consoleBuildDir(),
): Promise<void> {
  fastify.get(`/${CONSOLE_PATH}`, (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 302));
  if (!root || !existsSync(path.join(root, 'index.html'))) {
    fastify.get(`/${CONSOLE_PATH}/*`, () => {
      throw new NotFoundError(
        'The console is not built in this installation: run `npm run build` (npm start does it when dist/ is stale).',
      );
    });
    return;
  }
  await fastify.register(fastifyStatic, {
    root,
    prefix: `/${CONSOLE_PATH}/`,
    decorateReply: false,
    preCompressed: true,
    cacheControl: false,
    setHeaders: (reply, file) => {
      const hashed = path.dirname(file) === path.join(root, 'assets');
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
