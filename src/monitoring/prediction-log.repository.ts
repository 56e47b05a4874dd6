import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';
import { DateUtils } from 'typeorm/util/DateUtils';
import { Page } from '../common/pagination';
import { TransactionsService } from '../database/transactions.service';
import { PredictionLogEntry } from './prediction-log.entity';

export type NewLogEntry = Omit<PredictionLogEntry, 'id'>;

/** Which entries of a model a read covers: a version, and a time range [from, to). */
export interface LogFilter {
  modelId: string;
  version?: number;
  from?: Date;
  to?: Date;
}

/** The columns an insert binds per row (all but the generated id), in the entity's column names. */
const INSERT_SQL =
  'INSERT INTO prediction_log (model_id, version, alias, request_id, route, api_key_id, "rows", ' +
  'latency_ms, inputs, outputs, created_at)';
const INSERTED_COLUMNS = 11;
/** SQLite's default limit on bound variables in one statement (SQLITE_MAX_VARIABLE_NUMBER). */
const SQLITE_MAX_VARIABLES = 999;
/** PostgreSQL allows 65,535 parameters; 500 rows keep a statement to a few MB of JSON. */
const POSTGRES_ROWS_PER_INSERT = 500;
/** Rows one DELETE removes: short statements, so SQLite's writers in between are not held up. */
const DELETE_BATCH = 5_000;

/**
 * Every query of `prediction_log`. Reads walk the (model, time) and (model, version, time)
 * indexes newest first; exports page by keyset on (time, id), which those indexes also order.
 */
@Injectable()
export class PredictionLogRepository {
  readonly rowsPerInsert: number;
  private readonly sqlite: boolean;

  constructor(
    @InjectRepository(PredictionLogEntry) private readonly entries: Repository<PredictionLogEntry>,
    private readonly transactions: TransactionsService,
  ) {
    this.sqlite = entries.manager.connection.options.type === 'sqlite';
    this.rowsPerInsert = this.sqlite
      ? Math.floor(SQLITE_MAX_VARIABLES / INSERTED_COLUMNS)
      : POSTGRES_ROWS_PER_INSERT;
  }

  /**
   * One transaction of multi-row INSERTs, `rowsPerInsert` rows each. Written as SQL: TypeORM's
   * insert builder spent about 60 µs a row on its metadata, most of a flush's time.
   */
  async insert(rows: NewLogEntry[]): Promise<void> {
    await this.transactions.run(async (manager) => {
      for (let start = 0; start < rows.length; start += this.rowsPerInsert) {
        const chunk = rows.slice(start, start + this.rowsPerInsert);
        const parameters: unknown[] = [];
        const tuples = chunk.map((row) => {
          const first = parameters.length;
          parameters.push(
            row.modelId,
            row.version,
            row.alias,
            row.requestId,
            row.route,
            row.apiKeyId,
            row.rows,
            row.latencyMs,
            row.inputs,
            row.outputs,
            this.sqlite ? DateUtils.mixedDateToUtcDatetimeString(row.createdAt) : row.createdAt,
          );
          const marks = Array.from({ length: INSERTED_COLUMNS }, (_, i) =>
            this.sqlite ? '?' : `$${first + i + 1}`,
          );
          return `(${marks.join(', ')})`;
        });
        await manager.query(`${INSERT_SQL} VALUES ${tuples.join(', ')}`, parameters);
      }
    });
  }

  async page(filter: LogFilter, limit: number, offset: number): Promise<Page<PredictionLogEntry>> {
    const [items, total] = await this.filtered(filter)
      .orderBy('entry.createdAt', 'DESC')
      .addOrderBy('entry.id', 'DESC')
      .limit(limit)
      .offset(offset)
      .getManyAndCount();
    return { items, total, limit, offset };
  }

  /** Every matching entry, newest first, `size` at a time: never more than a page in memory. */
  async *all(filter: LogFilter, size: number): AsyncGenerator<PredictionLogEntry[]> {
    let last: PredictionLogEntry | undefined;
    for (;;) {
      const query = this.filtered(filter);
      if (last) {
        query.andWhere(
          '(entry.createdAt < :lastTime OR (entry.createdAt = :lastTime AND entry.id < :lastId))',
          { lastTime: last.createdAt, lastId: last.id },
        );
      }
      const page = await query
        .orderBy('entry.createdAt', 'DESC')
        .addOrderBy('entry.id', 'DESC')
        .limit(size)
        .getMany();
      if (page.length > 0) yield page;
      if (page.length < size) return;
      last = page[page.length - 1];
    }
  }

  /** Removes a model's entries older than `cutoff`; returns how many. */
  deleteOlderThan(modelId: string, cutoff: Date): Promise<number> {
    return this.deleteInBatches((query) =>
      query
        .where('old.modelId = :modelId', { modelId })
        .andWhere('old.createdAt < :cutoff', { cutoff }),
    );
  }

  /** Removes a model's entries beyond its newest `keep`; returns how many. */
  async deleteBeyond(modelId: string, keep: number): Promise<number> {
    const oldestKept = await this.entries
      .createQueryBuilder('entry')
      .select(['entry.id', 'entry.createdAt'])
      .where('entry.modelId = :modelId', { modelId })
      .orderBy('entry.createdAt', 'DESC')
      .addOrderBy('entry.id', 'DESC')
      .offset(keep - 1)
      .limit(1)
      .getOne();
    if (!oldestKept) return 0;
    return this.deleteInBatches((query) =>
      query
        .where('old.modelId = :modelId', { modelId })
        .andWhere(
          '(old.createdAt < :keptTime OR (old.createdAt = :keptTime AND old.id < :keptId))',
          { keptTime: oldestKept.createdAt, keptId: oldestKept.id },
        ),
    );
  }

  private filtered({
    modelId,
    version,
    from,
    to,
  }: LogFilter): SelectQueryBuilder<PredictionLogEntry> {
    const query = this.entries
      .createQueryBuilder('entry')
      .where('entry.modelId = :modelId', { modelId });
    if (version !== undefined) query.andWhere('entry.version = :version', { version });
    if (from) query.andWhere('entry.createdAt >= :from', { from });
    if (to) query.andWhere('entry.createdAt < :to', { to });
    return query;
  }

  private async deleteInBatches(
    where: (
      query: SelectQueryBuilder<PredictionLogEntry>,
    ) => SelectQueryBuilder<PredictionLogEntry>,
  ): Promise<number> {
    let deleted = 0;
    for (;;) {
      const ids = where(this.entries.createQueryBuilder('old').select('old.id')).limit(
        DELETE_BATCH,
      );
      const result = await this.entries
        .createQueryBuilder()
        .delete()
        .from(PredictionLogEntry)
        .where(`id IN (${ids.getQuery()})`)
        .setParameters(ids.getParameters())
        .execute();
      const affected = result.affected ?? 0;
      deleted += affected;
      if (affected < DELETE_BATCH) return deleted;
    }
  }
}
