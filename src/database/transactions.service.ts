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
 * BEGIN to COMMIT, and every query from outside a transaction waits for it. PostgreSQL gets a
 * real connection per transaction and needs none of this.
 */
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
    return this.dataSource.transaction(work);
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
