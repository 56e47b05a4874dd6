// setupFilesAfterEnv of the e2e-postgres project: the same end-to-end files, on PostgreSQL.
import { dropCreatedSchemas } from './test-database';

process.env.E2E_DATABASE = 'postgres';

afterAll(async () => {
  await dropCreatedSchemas();
});
