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

module.exports = {
  // A project-level testTimeout is ignored; end-to-end tests boot real services and need more than 5 s.
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/src', '<rootDir>/migrations'],
      testMatch: ['**/*.spec.ts'],
      transform: tsJest,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform: tsJest,
    },
  ],
};
