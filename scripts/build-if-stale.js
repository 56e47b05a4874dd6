#!/usr/bin/env node
// `npm start` runs compiled code; build first when dist/ is missing or older than the sources
// (the server's or the console's).
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

function newestOf(names) {
  return Math.max(
    ...names.map((name) => {
      const full = path.join(root, name);
      if (!fs.existsSync(full)) return 0;
      return fs.statSync(full).isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
    }),
  );
}

function stale(output, sources) {
  return !fs.existsSync(output) || fs.statSync(output).mtimeMs < newestOf(sources);
}

// The server's build empties dist/, the console's included, so either being stale rebuilds both.
const serverStale = stale(entry, ['src', 'migrations', 'package.json', 'tsconfig.json', 'tsconfig.build.json']);
const consoleStale = stale(path.join(root, 'dist', 'console', 'index.html'), ['console', 'package.json']);
if (serverStale || consoleStale) {
  process.stderr.write('modeldock: building (dist/ is missing or stale)...\n');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
}
