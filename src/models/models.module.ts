import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ModelAlias } from './model-alias.entity';
import { ModelEvent } from './model-event.entity';
import { ModelVersion } from './model-version.entity';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';
import { RegisteredModel } from './registered-model.entity';

@Module({
  imports: [TypeOrmModule.forFeature([RegisteredModel, ModelVersion, ModelAlias, ModelEvent])],
  controllers: [ModelsController],
  providers: [ModelsService],
  exports: [ModelsService],
})
export class ModelsModule {}
