import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { OBJECT_STORAGE, ObjectStorage } from '../storage/object-storage';

/** What the registry records about an artifact's bytes. */
export interface ArtifactDigest {
  /** sha256, hex: the version's checksum and the download's ETag. */
  checksum: string;
  sizeBytes: number;
}

/**
 * A version's artifact bytes in object storage, under `artifacts/<version id>`. The registry
 * stores them before the version row commits and removes them after the row is gone, so a version
 * row always has its artifact.
 */
@Injectable()
export class ModelArtifactsService {
  private readonly logger = new Logger('Registry');

  constructor(@Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage) {}

  static digest(content: Buffer): ArtifactDigest {
    return {
      checksum: createHash('sha256').update(content).digest('hex'),
      sizeBytes: content.length,
    };
  }

  async put(versionId: string, content: Buffer): Promise<void> {
    await this.storage.put(artifactKey(versionId), content);
  }

  /** The artifact's bytes, or null when there are none (the version was deleted meanwhile). */
  get(versionId: string): Promise<Buffer | null> {
    return this.storage.get(artifactKey(versionId));
  }

  /** After the version's row is gone; a failure leaves an unreferenced object, never a broken version. */
  async delete(versionId: string): Promise<void> {
    await this.storage.delete(artifactKey(versionId)).catch((error: unknown) => {
      this.logger.warn(`artifact of version ${versionId} not removed: ${String(error)}`);
    });
  }
}

function artifactKey(versionId: string): string {
  return `artifacts/${versionId}`;
}
