#!/usr/bin/env node
// CI's guard: the PostgreSQL and Redis the tests run against must answer, or nothing is skipped
// silently. Reads TEST_DATABASE_URL and TEST_REDIS_URL; exits 1 naming the one that fails.
const { Client } = require('pg');
const Redis = require('ioredis');

async function checkPostgres(url) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  const { rows } = await client.query('SHOW server_version');
  await client.end();
  return `PostgreSQL ${rows[0].server_version}`;
}

async function checkRedis(url) {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined); // reported by connect()'s rejection
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  return `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}`;
}

async function main() {
  let failed = false;
  for (const [name, check] of [
    ['TEST_DATABASE_URL', checkPostgres],
    ['TEST_REDIS_URL', checkRedis],
  ]) {
    const url = process.env[name];
    if (!url) {
      process.stderr.write(`check-test-services: ${name} is not set\n`);
      failed = true;
      continue;
    }
    const shown = url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
    try {
      process.stdout.write(`check-test-services: ${name}=${shown}: ${await check(url)}\n`);
    } catch (error) {
      process.stderr.write(`check-test-services: ${name}=${shown} is unreachable: ${error.message}\n`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
