// Unit specs live beside the code; end-to-end specs boot the real app in test/.
const tsJest = {
  '^.+\\.ts$': [
    'ts-jest',
    {
      // The Swagger CLI plugin documents DTOs at build time; apply it here too so
      // the OpenAPI document under test is the one users get.
      astTransformers: { before: ['<rootDir>/test/support/swagger-plugin.transformer.js'] },
    },
  ],
};

// Node's own typed arrays in each spec's realm, so onnxruntime-node's tensors work under Jest.
const testEnvironment = '<rootDir>/test/support/node-environment.js';

const e2e = {
  testEnvironment,
  rootDir: __dirname,
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.e2e-spec.ts'],
  transform: tsJest,
};

// The e2e suite runs a second time on PostgreSQL when TEST_DATABASE_URL names a server
// (.ci/run always sets it); without it that project is left out, and we say so.
const postgres = process.env.TEST_DATABASE_URL;
if (!postgres) {
  process.stderr.write(
    'jest: SKIPPED the e2e-postgres project (the whole e2e suite on PostgreSQL): TEST_DATABASE_URL is not set.\n',
  );
}

module.exports = {
  // A project-level testTimeout is ignored; end-to-end tests boot real services and need more than 5 s.
  testTimeout: 60000,
  // Each spec file loads the whole app into a fresh module registry, and what the process keeps of
  // it adds up. On 2 cores (one worker) Jest ran every file in its own process, in band, which
  // reached its 4 GiB heap limit by the e2e suites; collections then held the event loop for
  // seconds (overload 503s, timed-out probes). With a limit, files run in a worker process that
  // is replaced once a file leaves it above the limit.
  workerIdleMemoryLimit: '1GB',
  projects: [
    {
      displayName: 'unit',
      testEnvironment,
      rootDir: __dirname,
      roots: ['<rootDir>/src', '<rootDir>/migrations', '<rootDir>/test/deploy'],
      testMatch: ['**/*.spec.ts'],
      transform: tsJest,
    },
    { displayName: 'e2e', ...e2e },
    ...(postgres
      ? [
          {
            displayName: 'e2e-postgres',
            ...e2e,
            // The first two already run on PostgreSQL in the e2e project; the console in a
            // browser checks the console, which is the same on either database.
            testPathIgnorePatterns: [
              '/node_modules/',
              '/cluster\\.e2e-spec',
              '/schema-parity\\.e2e-spec',
              '/console-browser\\.e2e-spec',
            ],
            setupFilesAfterEnv: ['<rootDir>/test/support/postgres-project.ts'],
          },
        ]
      : []),
  ],
};
