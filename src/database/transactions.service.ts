import { Injectable } from '@nestjs/common';
import { Mutex } from 'async-mutex';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * Runs multi-step writes in one transaction.
 *
 * TypeORM's sqlite driver shares a single connection between every caller. Two concurrent
 * `transaction()` calls would nest, and worse, any query issued while a transaction is open
 * joins it: a dataset insert answered 201 would vanish if that transaction rolled back or the
 * process died before it committed, and reads would see rows not yet committed (the crash
 * campaign found both). So on SQLite one lock orders all access: a transaction holds it from
 * BEGIN to COMMIT, and every query from outside a transaction waits for it.
 *
 * PostgreSQL gets a real connection per transaction and needs none of this. There, two processes
 * may race to create the same row (a model's first version, a new alias): the loser's transaction
 * fails on the unique constraint and is run again from the start, when it finds the winner's row.
 * Work passed here must therefore read what it depends on inside the transaction.
 */
const MAX_ATTEMPTS = 5;
/** unique_violation, serialization_failure, deadlock_detected. */
const RETRYABLE_POSTGRES_CODES = new Set(['23505', '40001', '40P01']);

function isRetryableConflict(error: unknown): boolean {
  const code = (error as { driverError?: { code?: unknown } })?.driverError?.code;
  return typeof code === 'string' && RETRYABLE_POSTGRES_CODES.has(code);
}

@Injectable()
export class TransactionsService {
  private readonly sqliteLock = new Mutex();
  private readonly inTransaction = new AsyncLocalStorage<true>();

  constructor(private readonly dataSource: DataSource) {
    if (dataSource.options.type === 'sqlite') this.guardSharedConnection();
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type === 'sqlite') {
      return this.sqliteLock.runExclusive(() =>
        this.inTransaction.run(true, () => this.dataSource.transaction(work)),
      );
    }
    return this.retryingConflicts(work);
  }

  private async retryingConflicts<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(work);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableConflict(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  private guardSharedConnection(): void {
    const runner: QueryRunner = this.dataSource.driver.createQueryRunner('master');
    const query = runner.query.bind(runner) as QueryRunner['query'];
    runner.query = ((...args: Parameters<QueryRunner['query']>) =>
      this.inTransaction.getStore()
        ? query(...args)
        : this.sqliteLock.runExclusive(() => query(...args))) as QueryRunner['query'];
  }
}
