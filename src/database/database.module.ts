import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { buildDataSourceOptions } from './data-source-options';
import { runMigrations } from './migrate';
import { TransactionsService } from './transactions.service';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      // A broken database or migration should stop start-up at once, not retry for half a minute.
      useFactory: (config: AppConfig) => ({
        ...buildDataSourceOptions(config),
        // Run below, under a lock that replicas starting together share.
        migrationsRun: false,
        retryAttempts: 0,
      }),
      dataSourceFactory: async (options?: DataSourceOptions) => {
        if (!options) throw new Error('no database options');
        const dataSource = await new DataSource(options).initialize();
        await runMigrations(dataSource);
        return dataSource;
      },
    }),
  ],
  providers: [TransactionsService],
  exports: [TransactionsService],
})
export class DatabaseModule {}
