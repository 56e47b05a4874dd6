import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { Repository } from 'typeorm';
import { REFERENCE_SAMPLES_PREFIX, referenceSamplesKey } from '../drift/reference-samples';
import { OBJECT_STORAGE, ObjectStorage } from '../storage/object-storage';
import { StoredObjectsSweeper } from '../storage/stored-objects-sweeper';
import { ModelVersion } from './model-version.entity';

/** What the registry records about an artifact's bytes. */
export interface ArtifactDigest {
  /** sha256, hex: the version's checksum and the download's ETag. */
  checksum: string;
  sizeBytes: number;
}

/**
 * A version's artifact bytes in object storage, under `artifacts/<version id>`, and a trained
 * version's reference samples under `references/<version id>`. The registry stores them before
 * the version row commits and removes them after the row is gone, so a version row always has its
 * artifact (and a trained one its samples); a crash in between leaves only objects no row refers
 * to, which the file store's start-up sweep removes.
 */
@Injectable()
export class ModelArtifactsService {
  private readonly logger = new Logger('Registry');

  constructor(
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    @InjectRepository(ModelVersion) versions: Repository<ModelVersion>,
    sweeper: StoredObjectsSweeper,
  ) {
    // Both kinds of object belong to a version and go with it.
    const versionIds = async () => (await versions.find({ select: { id: true } })).map((v) => v.id);
    sweeper.claim(ARTIFACT_PREFIX, async () => (await versionIds()).map(artifactKey));
    sweeper.claim(REFERENCE_SAMPLES_PREFIX, async () =>
      (await versionIds()).map(referenceSamplesKey),
    );
  }

  static digest(content: Buffer): ArtifactDigest {
    return {
      checksum: createHash('sha256').update(content).digest('hex'),
      sizeBytes: content.length,
    };
  }

  /** The artifact, and a trained version's reference samples (drift's) when it has them. */
  async put(versionId: string, content: Buffer, referenceSamples?: Buffer): Promise<void> {
    await this.storage.put(artifactKey(versionId), content);
    if (referenceSamples) await this.storage.put(referenceSamplesKey(versionId), referenceSamples);
  }

  /** The artifact's bytes, or null when there are none (the version was deleted meanwhile). */
  get(versionId: string): Promise<Buffer | null> {
    return this.storage.get(artifactKey(versionId));
  }

  /**
   * After the version's row is gone, with its reference samples (drift's, stored beside the
   * artifact); a failure leaves an unreferenced object, never a broken version.
   */
  async delete(versionId: string): Promise<void> {
    for (const key of [artifactKey(versionId), referenceSamplesKey(versionId)]) {
      await this.storage.delete(key).catch((error: unknown) => {
        this.logger.warn(`${key} of version ${versionId} not removed: ${String(error)}`);
      });
    }
  }
}

const ARTIFACT_PREFIX = 'artifacts';

function artifactKey(versionId: string): string {
  return `${ARTIFACT_PREFIX}/${versionId}`;
}
