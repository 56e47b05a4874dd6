// Every migration, in order. A test checks that each file in this folder is listed here.
import { InitialSchema1764000000000 } from './1764000000000-InitialSchema';
import { RegistryProvenance1764100000000 } from './1764100000000-RegistryProvenance';

export const MIGRATIONS = [InitialSchema1764000000000, RegistryProvenance1764100000000];
