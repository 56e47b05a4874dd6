import * as path from 'node:path';
import { ConfigError, loadAppConfig } from './app.config';

describe('loadAppConfig', () => {
  it('defaults to port 3000 and a SQLite file under ./data', () => {
    const config = loadAppConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.database).toEqual({
      type: 'sqlite',
      path: path.resolve('data', 'modeldock.sqlite'),
    });
  });

  it('puts the database in DATA_DIR and accepts DATABASE_URL=sqlite:<path>', () => {
    expect(loadAppConfig({ DATA_DIR: '/tmp/md' }).database.path).toBe('/tmp/md/modeldock.sqlite');
    expect(loadAppConfig({ DATABASE_URL: 'sqlite:/var/lib/md.db' }).database.path).toBe(
      '/var/lib/md.db',
    );
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ TRAINING_CONCURRENCY: '0' }, /TRAINING_CONCURRENCY/],
    [{ DATABASE_URL: 'mysql://db/x' }, /DATABASE_URL/],
  ])('refuses %j with a message naming the variable', (env, pattern) => {
    expect(() => loadAppConfig(env)).toThrow(ConfigError);
    expect(() => loadAppConfig(env)).toThrow(pattern);
  });

  it('never echoes credentials from a DATABASE_URL it refuses', () => {
    expect(() => loadAppConfig({ DATABASE_URL: 'mysql://user:secret@db/x' })).toThrow(
      /^(?!.*secret)/s,
    );
  });
});
