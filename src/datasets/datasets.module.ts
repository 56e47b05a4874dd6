import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Dataset } from './dataset.entity';
import { DatasetsController } from './datasets.controller';
import { DatasetIngest } from './dataset-ingest';
import { DatasetsService } from './datasets.service';

@Module({
  imports: [TypeOrmModule.forFeature([Dataset])],
  controllers: [DatasetsController],
  providers: [DatasetsService, DatasetIngest],
  exports: [DatasetsService],
})
export class DatasetsModule {}
