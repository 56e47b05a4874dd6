import { readdirSync } from 'node:fs';
import { MIGRATIONS } from '.';

describe('migrations index', () => {
  it('lists every migration file in this folder, in timestamp order', () => {
    const files = readdirSync(__dirname)
      .filter((file) => /^\d+-\w+\.ts$/.test(file))
      .sort();
    const names = files.map((file) => {
      const [timestamp, name] = file.replace(/\.ts$/, '').split('-');
      return `${name}${timestamp}`;
    });
    expect(MIGRATIONS.map((migration) => migration.name)).toEqual(names);
  });
});
