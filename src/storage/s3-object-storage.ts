import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DependencyUnavailableError } from '../common/errors';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { S3StoreConfig } from '../config/app.config';
import {
  checkObjectKey,
  isKeySegment,
  type ObjectStorage,
  type StoredObject,
} from './object-storage';

const MiB = 1024 * 1024;
/**
 * Uploads go through lib-storage in parts of at least this size, `UPLOAD_QUEUE` at a time: at most
 * 64 MiB of a large file in memory, each part a buffer the SDK can resend on a retry, and no 5 GiB
 * ceiling of a single PutObject. An object smaller than one part is one PutObject.
 */
const PART_SIZE = 16 * MiB;
const UPLOAD_QUEUE = 4;
/** S3's limit on parts per upload: a part size that keeps a file under it. */
const MAX_PARTS = 10_000;

/** Readiness asks at most this often; a probe storm costs one request per interval. */
const PROBE_REUSE_MS = 5_000;
const PROBE_TIMEOUT_MS = 2_000;

/** Codes that say where the fault lies, with what an operator should check. */
const HINTS: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist (create it, or fix S3_BUCKET / S3_ENDPOINT)',
  AccessDenied:
    'the credentials may not use this bucket (ModelDock needs s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload)',
  InvalidAccessKeyId: 'the server does not know the access key (check the AWS credentials)',
  SignatureDoesNotMatch: 'the secret key does not match the access key (check the AWS credentials)',
  CredentialsProviderError:
    'no AWS credentials were found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity such as IRSA)',
  PermanentRedirect: 'the bucket is in another region (fix S3_REGION)',
  AuthorizationHeaderMalformed: 'the bucket is in another region (fix S3_REGION)',
};

/**
 * Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW…), each key stored as
 * `S3_PREFIX` + key. Credentials come from the AWS SDK's default chain (environment, profile, web
 * identity, instance metadata), never from ModelDock's configuration, and are never logged.
 *
 * A PutObject or a completed multipart upload replaces an object atomically, so a reader sees the
 * old object or the new one. There is no local file: a training job decodes the dataset from get().
 */
export class S3ObjectStorage implements ObjectStorage, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Storage');
  private readonly client: S3Client;
  private lastProbe: { at: number; outcome: Promise<void> } | null = null;

  constructor(
    readonly config: S3StoreConfig,
    /** Explicit credentials (tests); otherwise the SDK's default chain. */
    credentials?: S3ClientConfig['credentials'],
  ) {
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      credentials,
      // Connections fail fast; a transfer may take as long as it needs while bytes keep moving.
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 60_000 },
    });
  }

  /** `s3://bucket/prefix` and where the bucket is, for messages (no credentials). */
  get location(): string {
    const where = this.config.endpoint ?? `AWS ${this.config.region}`;
    return `s3://${this.config.bucket}/${this.config.prefix} at ${where}`;
  }

  async onModuleInit(): Promise<void> {
    // Start either way: readiness stays 503 and says why until the bucket answers.
    try {
      await this.probe();
      this.logger.log(`objects in ${this.location}`);
    } catch (error) {
      this.logger.error(`object store not reachable: ${(error as Error).message}`);
    }
  }

  onApplicationShutdown(): void {
    this.client.destroy();
  }

  async put(key: string, content: Buffer): Promise<void> {
    await this.upload(key, content, content.length);
  }

  async putFile(key: string, source: string): Promise<void> {
    const { size } = await stat(source);
    await this.upload(key, createReadStream(source), size);
    await rm(source, { force: true });
  }

  async get(key: string): Promise<Buffer | null> {
    const name = this.objectName(key);
    let response;
    try {
      response = await this.client.send(
        new GetObjectCommand({ Bucket: this.config.bucket, Key: name }),
      );
    } catch (error) {
      if (isMissingKey(error)) return null;
      throw this.unavailable('reading', key, error);
    }
    try {
      return await readBody(response.Body as Readable, response.ContentLength);
    } catch (error) {
      throw this.unavailable('reading', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    const name = this.objectName(key);
    try {
      // S3 answers 204 for a key that is not there.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: name }));
    } catch (error) {
      if (isMissingKey(error)) return;
      throw this.unavailable('deleting', key, error);
    }
  }

  /** Every object under the prefix whose rest is an object key; anything else there is not ours. */
  async *objects(): AsyncIterable<StoredObject> {
    const { bucket, prefix } = this.config;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw this.unavailable('listing', '', error);
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(prefix.length) ?? '';
        if (!key.split('/').every(isKeySegment)) continue;
        yield {
          key,
          size: object.Size ?? 0,
          modifiedMs: object.LastModified?.getTime() ?? 0,
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Lists at most one key under the prefix: what every request needs (bucket, endpoint, region,
   * credentials, and ListBucket, which a missing key's 404 rather than 403 depends on), and allowed
   * by a policy that limits ListBucket to the prefix, which HeadBucket is not. Concurrent callers
   * share one request, and an outcome is reused for a few seconds.
   */
  probe(): Promise<void> {
    const now = Date.now();
    if (this.lastProbe && now - this.lastProbe.at < PROBE_REUSE_MS) return this.lastProbe.outcome;
    const outcome = this.client
      .send(
        new ListObjectsV2Command({
          Bucket: this.config.bucket,
          Prefix: this.config.prefix,
          MaxKeys: 1,
        }),
        { abortSignal: AbortSignal.timeout(PROBE_TIMEOUT_MS) },
      )
      .then(
        () => undefined,
        (error: unknown) => {
          throw this.failure('listing', '', error);
        },
      );
    this.lastProbe = { at: now, outcome };
    // A probe nobody awaits must not become an unhandled rejection.
    outcome.catch(() => undefined);
    return outcome;
  }

  private async upload(key: string, body: Buffer | Readable, size: number): Promise<void> {
    const name = this.objectName(key);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.config.bucket,
        Key: name,
        Body: body,
        ContentType: 'application/octet-stream',
      },
      partSize: Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS)),
      queueSize: UPLOAD_QUEUE,
      // A failed multipart upload is aborted, so its parts are not left to be billed.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      throw this.unavailable('writing', key, error);
    }
  }

  private objectName(key: string): string {
    checkObjectKey(key);
    return this.config.prefix + key;
  }

  /**
   * What a request is answered when the bucket fails it: a 503 that says so, the full failure its
   * cause, logged here (it names the bucket and endpoint, which are not the client's business).
   */
  private unavailable(action: string, key: string, error: unknown): DependencyUnavailableError {
    const failure = this.failure(action, key, error);
    this.logger.error(failure.message);
    const answer = new DependencyUnavailableError(
      `The object store failed while ${action} an object; try again shortly. ` +
        'If it persists, the service log names the cause.',
    );
    answer.cause = failure;
    return answer;
  }

  /** An error that names the bucket, the key and, when the code says, what to check. */
  private failure(action: string, key: string, error: unknown): Error {
    const code = errorCode(error);
    const hint = code ? HINTS[code] : undefined;
    // The SDK wraps an error of another realm (a test's sandbox) in a sentence of its own.
    const reason = (errorText(error, 'message') ?? String(error)).replace(
      /^AWS SDK error wrapper for (Error: )?/,
      '',
    );
    const what = key ? `${key} in ${this.location}` : this.location;
    return new Error(
      `S3 error ${action} ${what}: ${code ? `${code}: ` : ''}${hint ?? (reason || 'no message')}`,
      { cause: error },
    );
  }
}

function errorText(error: unknown, field: 'name' | 'message' | 'code'): string | undefined {
  const value = (error as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' ? value : undefined;
}

/** S3's error code, a socket's (ECONNREFUSED…), the SDK's error class, or nothing. */
function errorCode(error: unknown): string | undefined {
  if (error instanceof S3ServiceException) {
    // A HEAD or an empty error body has no code: the status says it.
    if (error.name === 'NotFound' || error.name === 'UnknownError') {
      return error.$metadata.httpStatusCode === 403 ? 'AccessDenied' : error.name;
    }
    return error.name;
  }
  const name = errorText(error, 'code') ?? errorText(error, 'name');
  return name === 'Error' ? undefined : name;
}

/** NoSuchKey, or a 404 without a code, is a missing object; a missing bucket is not. */
function isMissingKey(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  if (error.name === 'NoSuchKey') return true;
  return error.$metadata.httpStatusCode === 404 && error.name !== 'NoSuchBucket';
}

/**
 * The body into one buffer of the announced length, chunk by chunk: a 1 GiB dataset costs 1 GiB,
 * not the chunks plus their concatenation.
 */
async function readBody(body: Readable, length: number | undefined): Promise<Buffer> {
  if (length === undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  const content = Buffer.allocUnsafe(length);
  let offset = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    if (offset + bytes.length > length) {
      body.destroy();
      throw new Error(`the object is longer than its Content-Length (${length} bytes)`);
    }
    bytes.copy(content, offset);
    offset += bytes.length;
  }
  if (offset !== length) {
    throw new Error(`the object ended after ${offset} of its ${length} bytes`);
  }
  return content;
}
