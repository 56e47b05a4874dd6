import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ModelAlias } from './model-alias.entity';
import { ModelArtifactsService } from './model-artifacts.service';
import { ModelEvent } from './model-event.entity';
import { ModelVersion } from './model-version.entity';
import { ModelAliasesController } from './model-aliases.controller';
import { ModelVersionsController } from './model-versions.controller';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';
import { OnnxImportsService } from './onnx-imports.service';
import { RegisteredModel } from './registered-model.entity';
import { RegistryEventsService } from './registry-events.service';
import { ServingVersionsService } from './serving-versions.service';

@Module({
  imports: [TypeOrmModule.forFeature([RegisteredModel, ModelVersion, ModelAlias, ModelEvent])],
  controllers: [ModelsController, ModelVersionsController, ModelAliasesController],
  providers: [
    ModelsService,
    ModelArtifactsService,
    ServingVersionsService,
    RegistryEventsService,
    OnnxImportsService,
  ],
  exports: [ModelsService, ServingVersionsService, RegistryEventsService],
})
export class ModelsModule {}
