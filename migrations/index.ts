// Every migration, in order. A test checks that each file in this folder is listed here.
import { InitialSchema1764000000000 } from './1764000000000-InitialSchema';
import { RegistryProvenance1764100000000 } from './1764100000000-RegistryProvenance';
import { ApiKeys1764200000000 } from './1764200000000-ApiKeys';
import { RunningAtScale1764300000000 } from './1764300000000-RunningAtScale';
import { ArtifactsInStorage1764400000000 } from './1764400000000-ArtifactsInStorage';
import { TrainingSummary1764500000000 } from './1764500000000-TrainingSummary';
import { ServingOptions1764600000000 } from './1764600000000-ServingOptions';
import { Monitoring1764700000000 } from './1764700000000-Monitoring';
import { ObjectsAsFiles1764800000000 } from './1764800000000-ObjectsAsFiles';
import type { ObjectStoreConfig } from '../src/config/app.config';

export const MIGRATIONS = [
  InitialSchema1764000000000,
  RegistryProvenance1764100000000,
  ApiKeys1764200000000,
  RunningAtScale1764300000000,
  ArtifactsInStorage1764400000000,
  TrainingSummary1764500000000,
  ServingOptions1764600000000,
  Monitoring1764700000000,
  ObjectsAsFiles1764800000000,
];

/** The same list, with the migration that moves objects told where they go (OBJECT_STORE). */
export function migrationsFor(store: ObjectStoreConfig): typeof MIGRATIONS {
  return MIGRATIONS.map((migration) =>
    migration === ObjectsAsFiles1764800000000 ? ObjectsAsFiles1764800000000.to(store) : migration,
  );
}
