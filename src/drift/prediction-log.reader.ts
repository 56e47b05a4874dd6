import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ENTRY_SEPARATOR, FIELD_SEPARATOR, LogPage } from './drift-computations';

/**
 * Rows a page aims at (by the mean `rows` of the entries read so far): with 20 features, ~4 MB of
 * JSON text, which the driver turns into strings on the event loop in one go.
 */
const PAGE_ROWS = 10_000;
/** Entries per page at most (requests of one row), and the first page's (its entries' sizes unknown). */
const MAX_PAGE_ENTRIES = 10_000;
const FIRST_PAGE_ENTRIES = 100;

/** Where the log's pages go: resolves true once it has all the rows it needs. */
export interface LogSink {
  add(page: LogPage): Promise<boolean>;
}

/** A version that serves through an alias, has a reference and was logged in the window. */
export interface WatchedVersion {
  model: string;
  version: number;
}

/**
 * Drift's reads of the prediction log (and, for the gauges, of which versions serve): plain SQL
 * both drivers accept, selecting only the columns drift parses. The log is written by the
 * monitoring module; drift never writes it.
 */
@Injectable()
export class PredictionLogReader {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Feeds the version's entries logged in [from, to) to `sink`, newest first, in pages, until the
   * sink says it has enough or the window is exhausted. Pages follow the (model, version, time)
   * index: (created_at, id) keyset, so no page sorts the rest of the window again. The next page
   * is read while the sink takes the last one.
   */
  async read(
    modelId: string,
    version: number,
    window: { from: Date; to: Date },
    sink: LogSink,
  ): Promise<void> {
    const postgres = this.dataSource.options.type === 'postgres';
    let after: { time: unknown; id: unknown } | null = null;
    let limit = FIRST_PAGE_ENTRIES;
    let full: Promise<boolean> = Promise.resolve(false);
    for (;;) {
      const [sql, parameters] = this.dataSource.driver.escapeQueryWithParameters(
        pageQuery(postgres, after !== null),
        { modelId, version, ...window, ...after, limit },
        {},
      );
      const [page] = (await this.dataSource.query(sql, parameters)) as {
        entries: string | null;
        count: number | string;
        row_count: number | string | null;
        last: string | null;
      }[];
      const count = Number(page.count);
      // The page before this one may have filled the sample: then this one is not needed.
      if (await full) return;
      if (count > 0) {
        full = sink.add({ entries: page.entries ?? '' });
        // Awaited below or at the next page; a failure meanwhile is not an unhandled rejection.
        full.catch(() => undefined);
      }
      if (count < limit) {
        await full;
        return;
      }
      // The last entry's created_at as the database writes it as text, and its id.
      const [time, id] = (page.last ?? '').split(FIELD_SEPARATOR);
      const number = Number(id);
      after = { time, id: Number.isSafeInteger(number) ? number : id.replace(/^0+(?=\d)/, '') };
      const rowsPerEntry = Math.max(1, Number(page.row_count) / count || 1);
      limit = Math.min(MAX_PAGE_ENTRIES, Math.max(1, Math.round(PAGE_ROWS / rowsPerEntry)));
    }
  }

  /**
   * Versions an alias serves (its version or its canary) that have a reference and entries since
   * `since`, by model and version, at most `limit`.
   */
  async watchedVersions(since: Date, limit: number): Promise<WatchedVersion[]> {
    const rows = await this.dataSource
      .createQueryBuilder()
      .select('model.name', 'model')
      .addSelect('version.version', 'version')
      .distinct(true)
      .from('model_aliases', 'alias')
      .innerJoin('registered_models', 'model', 'model.id = alias.model_id')
      .innerJoin(
        'model_versions',
        'version',
        'version.model_id = alias.model_id AND ' +
          '(version.version = alias.version OR version.version = alias.canary_version)',
      )
      .where('version.reference IS NOT NULL')
      .andWhere(
        'EXISTS (SELECT 1 FROM prediction_log log WHERE log.model_id = version.model_id ' +
          'AND log.version = version.version AND log.created_at >= :since)',
        { since },
      )
      .orderBy('model.name', 'ASC')
      .addOrderBy('version.version', 'ASC')
      .limit(limit)
      .getRawMany<{ model: string; version: number | string }>();
    return rows.map((row) => ({ model: row.model, version: Number(row.version) }));
  }
}

/**
 * One page of the version's entries in the window, newest first, as a single row: the entries
 * joined into one text (ENTRY_SEPARATOR between entries, FIELD_SEPARATOR between route, inputs
 * and outputs), their count and rows, and `last`, the (created_at, id) of the last entry, where
 * the next page starts (the least of the page's keys, compared as text: created_at as fixed-width
 * ISO text, whatever PostgreSQL's DateStyle, the id zero-padded). One text instead of a row per entry: the
 * driver makes one string on the event loop, not three strings and an object per entry, and it
 * moves to the drift thread in one copy.
 *
 * The entries are joined in the subquery's order (newest first). Neither database promises an
 * aggregate keeps its input's order, but both do for a sorted subquery read straight (PostgreSQL's
 * documentation: "supplying the input values from a sorted subquery will usually work"); an
 * ORDER BY inside the aggregate would sort the page's text again (~55 ms per 10,000 entries on
 * PostgreSQL). The order only decides which entries of the last page are cut at MAX_DRIFT_ROWS.
 */
function pageQuery(postgres: boolean, afterCursor: boolean): string {
  const char = postgres ? 'chr' : 'char';
  const field = `${char}(${FIELD_SEPARATOR.charCodeAt(0)})`;
  const entry = `${char}(${ENTRY_SEPARATOR.charCodeAt(0)})`;
  const joined = postgres ? `string_agg(entry, ${entry})` : `group_concat(entry, ${entry})`;
  const key = postgres
    ? `(to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US') || ${field} || lpad(id::text, 20, '0')) COLLATE "C"`
    : `created_at || ${field} || printf('%020d', id)`;
  const cursor = afterCursor
    ? 'AND (log.created_at < :time OR (log.created_at = :time AND log.id < :id))'
    : '';
  return `SELECT ${joined} AS entries, count(*) AS count, sum(row_count) AS row_count,
      min(${key}) AS last
    FROM (
      SELECT log.id AS id, log.created_at AS created_at, log.rows AS row_count,
        log.route || ${field} || log.inputs || ${field} || log.outputs AS entry
      FROM prediction_log log
      WHERE log.model_id = :modelId AND log.version = :version
        AND log.created_at >= :from AND log.created_at < :to ${cursor}
      ORDER BY log.created_at DESC, log.id DESC
      LIMIT :limit
    ) page`;
}
