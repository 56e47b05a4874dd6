#!/usr/bin/env node
// `npm start` runs compiled code; build first when dist/ is missing or older than the sources.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entryName of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entryName.name);
    const mtime = entryName.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

const sources = ['src', 'migrations', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
const newestSource = Math.max(
  ...sources.map((name) => {
    const full = path.join(root, name);
    if (!fs.existsSync(full)) return 0;
    return fs.statSync(full).isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
  }),
);

if (!fs.existsSync(entry) || fs.statSync(entry).mtimeMs < newestSource) {
  process.stderr.write('modeldock: building (dist/ is missing or stale)...\n');
  execSync('npx nest build', { cwd: root, stdio: 'inherit' });
}
