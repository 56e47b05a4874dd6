import { Inject, Injectable } from '@nestjs/common';
import { TransactionsService } from '../database/transactions.service';
import type { ReferenceProfile, ReferenceSamples } from '../ml/reference-profile';
import { ModelVersion } from '../models/model-version.entity';
import { RegistryEventsService } from '../models/registry-events.service';
import { OBJECT_STORAGE, ObjectStorage } from '../storage/object-storage';
import {
  decodeReferenceSamples,
  encodeReferenceSamples,
  referenceSamplesKey,
} from './reference-samples';

/**
 * Where a version's reference lives: the profile in `model_versions.reference`, the samples in
 * object storage under `references/<version id>` (removed with the version's artifact).
 */
@Injectable()
export class ReferenceStore {
  constructor(
    private readonly transactions: TransactionsService,
    private readonly events: RegistryEventsService,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  /**
   * Replaces a version's reference and records who did it. The samples go first: a profile in
   * the row always has its samples (a failure in between leaves the old profile with new samples,
   * which still describe a reference of the version).
   */
  async replace(
    version: { id: string; modelId: string; version: number },
    reference: { profile: ReferenceProfile; samples: ReferenceSamples },
    actor: string,
  ): Promise<void> {
    await this.storage.put(
      referenceSamplesKey(version.id),
      encodeReferenceSamples(reference.samples),
    );
    await this.transactions.run(async (manager) => {
      await manager.update(ModelVersion, { id: version.id }, { reference: reference.profile });
      await this.events.record(manager, version.modelId, 'reference_set', {
        toVersion: version.version,
        actor,
      });
    });
  }

  /** The samples KS and Wasserstein compare with; empty when they are missing. */
  async samples(versionId: string): Promise<ReferenceSamples> {
    const content = await this.storage.get(referenceSamplesKey(versionId));
    return content ? decodeReferenceSamples(content) : {};
  }
}
