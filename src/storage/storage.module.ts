import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig, ObjectStoreConfig } from '../config/app.config';
import { DatabaseObjectStorage } from './database-object-storage';
import { FileObjectStorage } from './file-object-storage';
import { OBJECT_STORAGE, ObjectStorage } from './object-storage';
import { S3ObjectStorage } from './s3-object-storage';
import { StoredObjectsSweeper } from './stored-objects-sweeper';

/** The store OBJECT_STORE names; a new kind is one more case here and in ObjectStoreConfig. */
export function createObjectStorage(
  config: ObjectStoreConfig,
  dataSource: DataSource,
): ObjectStorage {
  switch (config.kind) {
    case 'file':
      return new FileObjectStorage(config.root);
    case 'database':
      return new DatabaseObjectStorage(dataSource);
    case 's3': {
      const { kind: _kind, ...settings } = config;
      return new S3ObjectStorage(settings);
    }
    default: {
      const unknown: never = config;
      throw new Error(`unknown object store ${JSON.stringify(unknown)}`);
    }
  }
}

/** The object store every module shares, as OBJECT_STORE chose it. */
@Global()
@Module({
  providers: [
    {
      provide: OBJECT_STORAGE,
      inject: [appConfig.KEY, DataSource],
      useFactory: (config: AppConfig, dataSource: DataSource) =>
        createObjectStorage(config.objectStore, dataSource),
    },
    StoredObjectsSweeper,
  ],
  exports: [OBJECT_STORAGE, StoredObjectsSweeper],
})
export class StorageModule {}
