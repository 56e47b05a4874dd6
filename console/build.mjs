#!/usr/bin/env node
// Builds the web console into dist/console: one script and one stylesheet named by their content's
// hash, index.html pointing at them, and gzip and Brotli copies the server sends where accepted.
// Prints what a first load transfers. `npm run build` runs it after the server's build.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(process.argv[2] ?? path.join(here, '..', 'dist', 'console'));

rmSync(outDir, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: { app: path.join(here, 'src', 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  outdir: path.join(outDir, 'assets'),
  entryNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.resolve(file));
const asset = (ext) => path.basename(outputs.find((file) => file.endsWith(ext)));
const index = readFileSync(path.join(here, 'index.html'), 'utf8')
  .replace('{{script}}', `assets/${asset('.js')}`)
  .replace('{{style}}', `assets/${asset('.css')}`);
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'index.html'), index);

// What a first load transfers: the page, the script and the stylesheet, as the server sends them.
let raw = 0;
let gzipped = 0;
for (const file of [
  path.join(outDir, 'index.html'),
  ...outputs.filter((f) => !f.endsWith('.txt')),
]) {
  const content = readFileSync(file);
  const gz = gzipSync(content, { level: 9 });
  writeFileSync(`${file}.gz`, gz);
  writeFileSync(
    `${file}.br`,
    brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
  raw += content.length;
  gzipped += gz.length;
}
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
process.stdout.write(
  `console: ${path.relative(process.cwd(), outDir)} — first load ${kib(gzipped)} gzipped (${kib(raw)} uncompressed)\n`,
);
