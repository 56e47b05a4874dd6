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
  // @fastify/static (Swagger UI assets) requires content-disposition 3, which ships only as ESM;
  // Node loads it natively, Jest on Node 20 needs it compiled to CommonJS.
  '^.+/node_modules/content-disposition/.+\\.js$': [
    'ts-jest',
    { tsconfig: { allowJs: true, module: 'commonjs' }, isolatedModules: true },
  ],
};
const transformIgnorePatterns = ['/node_modules/(?!content-disposition/)'];

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/src', '<rootDir>/migrations'],
      testMatch: ['**/*.spec.ts'],
      transform: tsJest,
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform: tsJest,
      transformIgnorePatterns,
      testTimeout: 60000,
    },
  ],
};
