import { Global, Module } from '@nestjs/common';
import { DatabaseObjectStorage } from './database-object-storage';
import { OBJECT_STORAGE } from './object-storage';

/** The object store every module shares; swap the provider here for a bucket. */
@Global()
@Module({
  providers: [{ provide: OBJECT_STORAGE, useClass: DatabaseObjectStorage }],
  exports: [OBJECT_STORAGE],
})
export class StorageModule {}
