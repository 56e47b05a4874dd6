import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource, Table, TableColumn } from 'typeorm';
import type { DatabaseConfig } from '../src/config/app.config';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { MIGRATIONS } from '../migrations';

/**
 * The migrations must build the same schema on SQLite and PostgreSQL. Both are migrated from
 * empty, read back with TypeORM's `getTables`, reduced to a driver-neutral description and
 * compared with `toEqual`, so a failure shows exactly which table, column or index differs.
 * Then every `down` runs on both, newest first, comparing again after each, until nothing is left.
 */
const databaseUrl = process.env.TEST_DATABASE_URL;
if (!databaseUrl) {
  process.stderr.write(
    'schema parity: SKIPPED (SQLite vs PostgreSQL migrations) — TEST_DATABASE_URL is not set.\n',
  );
}
const describeParity = !databaseUrl ? describe.skip : describe;

type Driver = 'sqlite' | 'postgres';

/** Application tables the current migrations create; the description must contain them all. */
const EXPECTED_TABLES = [
  'api_keys',
  'datasets',
  'model_aliases',
  'model_events',
  'model_versions',
  'prediction_log',
  'registered_models',
  'stored_objects',
  'training_jobs',
];

/**
 * Column types as each driver's `getTables` reports them, mapped to one family. A type missing
 * here is reported as `unmapped <driver> <type>`, which can never match: extend the map then.
 * `real` differs on purpose: 8-byte on SQLite, 4-byte on PostgreSQL.
 */
const TYPE_FAMILIES: Record<Driver, Record<string, string>> = {
  sqlite: {
    varchar: 'string',
    'character varying': 'string',
    text: 'text',
    integer: 'int',
    int: 'int',
    bigint: 'bigint',
    'double precision': 'double',
    double: 'double',
    real: 'double',
    boolean: 'boolean',
    datetime: 'timestamp',
    timestamp: 'timestamp',
    blob: 'binary',
  },
  postgres: {
    'character varying': 'string',
    varchar: 'string',
    text: 'text',
    integer: 'int',
    int4: 'int',
    bigint: 'bigint',
    int8: 'bigint',
    'double precision': 'double',
    float8: 'double',
    real: 'float4',
    boolean: 'boolean',
    'timestamp without time zone': 'timestamp',
    timestamp: 'timestamp',
    'timestamp with time zone': 'timestamptz',
    bytea: 'binary',
  },
};

/**
 * Columns whose types differ on purpose, with the family each side must have. `prediction_log.id`:
 * an id per logged request outgrows 2^31 within weeks; SQLite's INTEGER PRIMARY KEY is already a
 * 64-bit rowid (and AUTOINCREMENT takes no other type), PostgreSQL needs bigint.
 */
const DELIBERATE: Record<string, Record<Driver, string>> = {
  'prediction_log.id': { sqlite: 'int', postgres: 'bigint' },
};

function typeFamily(driver: Driver, type: string): string {
  return TYPE_FAMILIES[driver][type.toLowerCase()] ?? `unmapped ${driver} ${type}`;
}

/** Defaults: "the current time" in any spelling is one value; literals lose quotes and casts. */
function normalizeDefault(family: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  let text = String(value).trim();
  while (/^\(.*\)$/.test(text)) text = text.slice(1, -1).trim();
  if (/^(now\(\)|current_timestamp|datetime\('now'\)|localtimestamp)$/i.test(text)) return '<now>';
  text = text.replace(/::[\w ]+$/, '');
  const quoted = /^'(.*)'$/.exec(text);
  if (quoted) text = quoted[1];
  if (family === 'boolean') {
    if (/^(true|1)$/i.test(text)) return 'true';
    if (/^(false|0)$/i.test(text)) return 'false';
  }
  if (/^-?\d+(\.\d+)?$/.test(text)) return String(Number(text));
  return text;
}

type ColumnDescription = {
  type: string;
  length: string | null;
  nullable: boolean;
  primary: boolean;
  generated: string | null;
  default: string | null;
};
type TableDescription = {
  columnOrder: string[];
  columns: Record<string, ColumnDescription>;
  /** Unique constraints, by column set (sorted); TypeORM's names are kept too. */
  uniques: { columns: string[]; name: string }[];
  /** Indices by name, with their key columns in index order (read from the catalog). */
  indices: Record<string, { columns: string[]; unique: boolean; partial: boolean }>;
  foreignKeys: {
    name: string;
    columns: string[];
    referencedTable: string;
    referencedColumns: string[];
    onDelete: string;
    onUpdate: string;
  }[];
  checks: string[];
};
type SchemaDescription = Record<string, TableDescription>;

const byKey =
  <T>(key: (item: T) => string) =>
  (a: T, b: T) =>
    key(a).localeCompare(key(b));

function describeTable(
  driver: Driver,
  table: Table,
  indexKeys: Record<string, string[]>,
): TableDescription {
  const column = (c: TableColumn): ColumnDescription => {
    const deliberate = DELIBERATE[`${table.name}.${c.name}`];
    const family = typeFamily(driver, c.type);
    if (deliberate && family !== deliberate[driver]) {
      throw new Error(
        `${table.name}.${c.name} is ${family} on ${driver}, not ${deliberate[driver]}`,
      );
    }
    // Described as SQLite's, so both sides compare equal once each is what it must be.
    const type = deliberate ? deliberate.sqlite : family;
    return {
      type,
      length: type === 'string' && c.length ? String(c.length) : null,
      nullable: c.isNullable,
      primary: c.isPrimary,
      generated: c.isGenerated ? (c.generationStrategy ?? 'yes') : null,
      default: normalizeDefault(type, c.default),
    };
  };
  return {
    columnOrder: table.columns.map((c) => c.name),
    columns: Object.fromEntries(table.columns.map((c) => [c.name, column(c)])),
    uniques: table.uniques
      .map((u) => ({ columns: [...u.columnNames].sort(), name: u.name ?? '' }))
      .sort(byKey((u) => u.columns.join(','))),
    indices: Object.fromEntries(
      table.indices.map((i) => [
        i.name ?? `unnamed(${i.columnNames.join(',')})`,
        {
          // getTables on PostgreSQL returns index columns in table order, not key order.
          columns: (i.name && indexKeys[i.name]) || ['<no catalog entry>', ...i.columnNames],
          unique: i.isUnique,
          partial: Boolean(i.where),
        },
      ]),
    ),
    foreignKeys: table.foreignKeys
      .map((fk) => ({
        name: fk.name ?? '',
        columns: fk.columnNames,
        referencedTable: fk.referencedTableName.split('.').pop() ?? '',
        referencedColumns: fk.referencedColumnNames,
        onDelete: (fk.onDelete ?? 'NO ACTION').toUpperCase(),
        onUpdate: (fk.onUpdate ?? 'NO ACTION').toUpperCase(),
      }))
      .sort(byKey((fk) => `${fk.columns.join(',')}>${fk.referencedTable}`)),
    checks: table.checks.map((c) => c.name ?? '<unnamed>').sort(),
  };
}

/** Everything one side under test needs: its driver, data source and how it lists its objects. */
type Side = { driver: Driver; dataSource: DataSource };

async function tableNames({ driver, dataSource }: Side): Promise<string[]> {
  const rows: { name: string }[] = await dataSource.query(
    driver === 'sqlite'
      ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
      : `SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
  );
  return rows.map((row) => row.name).sort();
}

/** Index name → key columns in key order, from the catalog itself. */
async function indexKeyOrder({ driver, dataSource }: Side): Promise<Record<string, string[]>> {
  const rows: { index: string; column: string }[] = await dataSource.query(
    driver === 'sqlite'
      ? `SELECT m.name AS "index", ii.name AS "column"
           FROM sqlite_master m, pragma_index_info(m.name) ii
          WHERE m.type = 'index' ORDER BY m.name, ii.seqno`
      : `SELECT i.relname AS "index", a.attname AS "column"
           FROM pg_index ix
           JOIN pg_class i ON i.oid = ix.indexrelid
           JOIN pg_class t ON t.oid = ix.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE n.nspname = current_schema() ORDER BY i.relname, k.ord`,
  );
  const keys: Record<string, string[]> = {};
  for (const row of rows) (keys[row.index] ??= []).push(row.column);
  return keys;
}

/** The driver-neutral schema: every table but TypeORM's `migrations` bookkeeping. */
async function describeSchema(side: Side): Promise<SchemaDescription> {
  const names = (await tableNames(side)).filter((name) => name !== 'migrations');
  const indexKeys = await indexKeyOrder(side);
  const queryRunner = side.dataSource.createQueryRunner();
  try {
    const tables = await queryRunner.getTables(names);
    return Object.fromEntries(
      tables
        .map((table) => [table.name.split('.').pop() ?? table.name, table] as const)
        .sort(byKey(([name]) => name))
        .map(([name, table]) => [name, describeTable(side.driver, table, indexKeys)]),
    );
  } finally {
    await queryRunner.release();
  }
}

async function appliedMigrations({ dataSource }: Side): Promise<string[]> {
  const rows: { name: string }[] = await dataSource.query(
    'SELECT name FROM migrations ORDER BY id',
  );
  return rows.map((row) => row.name);
}

/** Whatever is left besides TypeORM's `migrations` table: indices, sequences, views, types... */
async function leftovers({ driver, dataSource }: Side): Promise<string[]> {
  const rows: { entry: string }[] = await dataSource.query(
    driver === 'sqlite'
      ? `SELECT type || ' ' || name AS entry FROM sqlite_master
          WHERE name NOT IN ('migrations', 'sqlite_sequence')`
      : `SELECT 'relkind ' || c.relkind::text || ' ' || c.relname AS entry
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema()
            AND c.relname NOT IN ('migrations', 'migrations_id_seq')
            AND NOT EXISTS (SELECT 1 FROM pg_index ix
                             WHERE ix.indexrelid = c.oid AND ix.indrelid = 'migrations'::regclass)
         UNION ALL
         SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd')`,
  );
  return rows.map((row) => row.entry).sort();
}

describeParity('schema parity: migrations on SQLite and PostgreSQL', () => {
  const schema = `parity_${randomBytes(6).toString('hex')}`;
  let dir: string;
  let sqlite: Side;
  let postgres: Side;

  const connect = async (driver: Driver, database: DatabaseConfig): Promise<Side> => ({
    driver,
    dataSource: await new DataSource(buildDataSourceOptions({ database })).initialize(),
  });

  const admin = async (sql: string) => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modeldock-parity-'));
    await admin(`CREATE SCHEMA ${schema}`);
    // migrationsRun is on: initialize() applies every migration.
    sqlite = await connect('sqlite', { type: 'sqlite', path: path.join(dir, 'parity.sqlite') });
    postgres = await connect('postgres', { type: 'postgres', url: databaseUrl!, schema });
  });

  afterAll(async () => {
    await sqlite?.dataSource.destroy();
    await postgres?.dataSource.destroy();
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies the same migrations, in order, on both', async () => {
    const names = MIGRATIONS.map((migration) => migration.name);
    expect(await appliedMigrations(sqlite)).toEqual(names);
    expect(await appliedMigrations(postgres)).toEqual(names);
  });

  it('describes a real schema, and the description notices a difference', async () => {
    const description = await describeSchema(sqlite);
    expect(Object.keys(description)).toEqual(EXPECTED_TABLES);
    expect(description.model_aliases.columns.protected).toEqual({
      type: 'boolean',
      length: null,
      nullable: false,
      primary: false,
      generated: null,
      default: 'false',
    });
    expect(description.model_events.indices.idx_model_events_model_id.columns).toEqual([
      'model_id',
      'id',
    ]);
    expect(Object.values(description).every((table) => table.columnOrder.length > 0)).toBe(true);

    const flipped = structuredClone(description);
    flipped.training_jobs.columns.alias.nullable = !flipped.training_jobs.columns.alias.nullable;
    expect(flipped).not.toEqual(description);
    const reordered = structuredClone(description);
    reordered.model_events.indices.idx_model_events_model_id.columns.reverse();
    expect(reordered).not.toEqual(description);
    expect(typeFamily('sqlite', 'real')).not.toEqual(typeFamily('postgres', 'real'));
    expect(typeFamily('postgres', 'money')).not.toEqual(typeFamily('sqlite', 'money'));
    expect(normalizeDefault('int', "'0'::integer")).toEqual(normalizeDefault('int', 0));
    expect(normalizeDefault('timestamp', "datetime('now')")).toEqual(
      normalizeDefault('timestamp', 'now()'),
    );
  });

  it('builds the same schema on SQLite and PostgreSQL', async () => {
    const onSqlite = await describeSchema(sqlite);
    const onPostgres = await describeSchema(postgres);
    expect(onPostgres).toEqual(onSqlite);
    // Foreign keys in a SQLite schema only act with the pragma on (TypeORM sets it per connection).
    expect(await sqlite.dataSource.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
  });

  // Newest first, one test per down(), so a failure names the migration; each must run in turn.
  const downs = MIGRATIONS.map((migration, index) => ({
    name: migration.name,
    before: MIGRATIONS.slice(0, index).map((earlier) => earlier.name),
  })).reverse();

  it.each(downs)('undoes $name on both, leaving the same schema', async ({ before }) => {
    for (const side of [sqlite, postgres]) {
      await side.dataSource.undoLastMigration();
      expect({ driver: side.driver, applied: await appliedMigrations(side) }).toEqual({
        driver: side.driver,
        applied: before,
      });
    }
    expect(await describeSchema(postgres)).toEqual(await describeSchema(sqlite));
  });

  it('ends with no application tables, indices or sequences on either', async () => {
    expect(await appliedMigrations(sqlite)).toEqual([]);
    expect(await appliedMigrations(postgres)).toEqual([]);
    expect(await tableNames(sqlite)).toEqual(['migrations']);
    expect(await tableNames(postgres)).toEqual(['migrations']);
    expect(await leftovers(sqlite)).toEqual([]);
    expect(await leftovers(postgres)).toEqual([]);
  });
});
