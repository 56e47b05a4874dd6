import { Injectable } from '@nestjs/common';
import { Mutex } from 'async-mutex';
import { DataSource, EntityManager } from 'typeorm';

/**
 * Runs multi-step writes in one transaction.
 *
 * TypeORM's sqlite driver shares a single connection, so two concurrent `transaction()` calls
 * would nest (the second becomes a savepoint inside the first). Transactions are therefore
 * serialised in-process for SQLite; PostgreSQL gets a real transaction per call.
 */
@Injectable()
export class TransactionsService {
  private readonly sqliteLock = new Mutex();

  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type === 'sqlite') {
      return this.sqliteLock.runExclusive(() => this.dataSource.transaction(work));
    }
    return this.dataSource.transaction(work);
  }
}
