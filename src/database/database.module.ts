import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { buildDataSourceOptions } from './data-source-options';
import { TransactionsService } from './transactions.service';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      // A broken database or migration should stop start-up at once, not retry for half a minute.
      useFactory: (config: AppConfig) => ({ ...buildDataSourceOptions(config), retryAttempts: 0 }),
    }),
  ],
  providers: [TransactionsService],
  exports: [TransactionsService],
})
export class DatabaseModule {}
