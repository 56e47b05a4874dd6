import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { hash as oneShotHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { IsNull, MoreThan, Repository } from 'typeorm';
import { ClusterEventsService } from '../cluster/cluster-events.service';
import { InvalidInputError, NotFoundError, UnauthorizedError } from '../common/errors';
import { NAME_PATTERN, NAME_RULE } from '../common/names';
import { Page } from '../common/pagination';
import { appConfig, AppConfig, MIN_ADMIN_KEY_LENGTH } from '../config/app.config';
import { ApiKey } from './api-key.entity';
import { Actor, Role } from './roles';

/** `mdk_<12 hex>_<43 base64url>`: a public prefix that finds the key, then 256 random bits. */
const KEY_PATTERN = /^(mdk_[0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;
const ADMIN_KEY_FILE = 'admin.key';
export const BOOTSTRAP_ADMIN = 'bootstrap-admin';
/** Keys already verified in this process, so a repeat request skips the hash (bounded). */
const VERIFIED_CACHE_SIZE = 10_000;
/** lastUsedAt is written at most this often per key: not a database write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The identity a valid key carries; the id is null for the bootstrap admin key. */
export interface Principal extends Actor {
  keyId: string | null;
}

function sha256(text: string): Buffer {
  return oneShotHash('sha256', text, 'buffer');
}

function newKey(): { key: string; prefix: string } {
  const prefix = `mdk_${randomBytes(6).toString('hex')}`;
  return { key: `${prefix}_${randomBytes(32).toString('base64url')}`, prefix };
}

/**
 * API keys: creation (shown once), listing, revocation, and the check every request makes.
 * Keys are kept in memory by prefix, so authenticating costs one sha256 and a constant-time
 * comparison; the database holds hashes only.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ApiKeys');
  /** Active keys by prefix, with their hash as bytes (compared on every request). */
  private readonly byPrefix = new Map<string, { key: ApiKey; hash: Buffer }>();
  private bootstrapHash: Buffer | null = null;
  /**
   * Presented key → the entry it was verified against. A hit needs the exact key (a miss takes
   * the constant-time path); revocation drops the entry from byPrefix, which the hit checks.
   */
  private readonly verified = new Map<string, { key: ApiKey; hash: Buffer } | 'bootstrap'>();
  private readonly lastUsedWritten = new Map<string, number>();
  /** lastUsedAt writes not yet finished: a listing or shutdown from this process waits for them. */
  private readonly pendingUseWrites = new Set<Promise<unknown>>();
  private recheckTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly cluster: ClusterEventsService,
  ) {}

  /**
   * With other replicas: a key revoked there is forgotten here at once (pub/sub), and revocations
   * are re-read every CLUSTER_RECHECK_MS in case a message was lost.
   */
  onApplicationBootstrap(): void {
    if (!this.cluster.distributed) return;
    this.cluster.subscribe('api-keys.revoked', ({ prefix }) => this.forget(prefix));
    let since = new Date();
    this.recheckTimer = setInterval(() => {
      // A minute's overlap covers clocks that differ between replicas.
      const from = new Date(since.getTime() - 60_000);
      since = new Date();
      this.keys
        .find({ where: { revokedAt: MoreThan(from) }, select: { prefix: true } })
        .then((revoked) => revoked.forEach(({ prefix }) => this.forget(prefix)))
        .catch((error: unknown) => this.logger.warn(`re-checking revocations: ${String(error)}`));
    }, this.config.cluster.recheckMs);
    this.recheckTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.recheckTimer);
    await this.settleUseWrites();
  }

  async onModuleInit(): Promise<void> {
    this.bootstrapHash = sha256(this.bootstrapKey());
    for (const key of await this.keys.findBy({ revokedAt: IsNull() })) this.remember(key);
  }

  /**
   * The principal behind a presented key; throws UnauthorizedError saying what is wrong.
   * Synchronous for keys this process knows (every request but the first of a key made elsewhere).
   */
  authenticate(presented: string): Principal | Promise<Principal> {
    const seen = this.verified.get(presented);
    if (seen === 'bootstrap') return { keyId: null, name: BOOTSTRAP_ADMIN, role: 'admin' };
    if (seen && this.byPrefix.get(seen.key.prefix) === seen) return this.admit(seen.key);
    const hash = sha256(presented);
    const match = KEY_PATTERN.exec(presented);
    if (!match) {
      if (this.bootstrapHash && timingSafeEqual(hash, this.bootstrapHash)) {
        this.rememberVerified(presented, 'bootstrap');
        return { keyId: null, name: BOOTSTRAP_ADMIN, role: 'admin' };
      }
      throw new UnauthorizedError('The API key is not valid.');
    }
    const known = this.byPrefix.get(match[1]);
    if (known) return this.verify(presented, known, hash);
    return this.lookUp(match[1]).then((key) => {
      if (!key) throw new UnauthorizedError('The API key is not valid.');
      return this.verify(presented, this.byPrefix.get(key.prefix) ?? this.entry(key), hash);
    });
  }

  private verify(presented: string, entry: { key: ApiKey; hash: Buffer }, hash: Buffer): Principal {
    if (!timingSafeEqual(hash, entry.hash))
      throw new UnauthorizedError('The API key is not valid.');
    if (!entry.key.revokedAt) this.rememberVerified(presented, entry);
    return this.admit(entry.key);
  }

  private rememberVerified(presented: string, entry: { key: ApiKey; hash: Buffer } | 'bootstrap') {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
    this.verified.set(presented, entry);
  }

  /** A verified key may still be revoked or expired. */
  private admit(key: ApiKey): Principal {
    if (key.revokedAt) {
      throw new UnauthorizedError(
        `The API key ${key.prefix} was revoked; ask an admin for a new one.`,
      );
    }
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) {
      throw new UnauthorizedError(
        `The API key ${key.prefix} expired at ${key.expiresAt.toISOString()}; ask an admin for a new one.`,
      );
    }
    this.noteUse(key);
    return { keyId: key.id, name: key.name, role: key.role };
  }

  async create(
    request: { name: string; role: Role; expiresAt?: Date },
    actor: Actor,
  ): Promise<{ apiKey: ApiKey; key: string }> {
    if (!NAME_PATTERN.test(request.name)) {
      throw new InvalidInputError(`Key name ${NAME_RULE}.`, [
        { field: 'name', message: NAME_RULE },
      ]);
    }
    if (request.expiresAt && request.expiresAt.getTime() <= Date.now()) {
      throw new InvalidInputError('expiresAt must be in the future.', [
        { field: 'expiresAt', message: 'must be in the future' },
      ]);
    }
    const { key, prefix } = newKey();
    const apiKey = this.keys.create({
      id: randomUUID(),
      name: request.name,
      role: request.role,
      prefix,
      hash: sha256(key).toString('hex'),
      createdAt: new Date(),
      createdBy: actor.name,
      lastUsedAt: null,
      expiresAt: request.expiresAt ?? null,
      revokedAt: null,
    });
    await this.keys.insert(apiKey);
    this.remember(apiKey);
    this.logger.log(
      `API key ${prefix} (${request.name}, ${request.role}) created by ${actor.name}`,
    );
    return { apiKey, key };
  }

  async list(limit: number, offset: number): Promise<Page<ApiKey>> {
    await this.settleUseWrites();
    const [items, total] = await this.keys.findAndCount({
      where: { revokedAt: IsNull() },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }

  /** Revokes at once: the next request with the key is a 401. */
  async revoke(id: string, actor: Actor): Promise<void> {
    const key = await this.keys.findOneBy({ id, revokedAt: IsNull() });
    if (!key) throw new NotFoundError(`There is no active API key ${id}.`);
    key.revokedAt = new Date();
    await this.keys.update({ id }, { revokedAt: key.revokedAt });
    this.forget(key.prefix);
    this.logger.log(`API key ${key.prefix} (${key.name}) revoked by ${actor.name}`);
    await this.cluster.publish('api-keys.revoked', { prefix: key.prefix });
  }

  /** A key created by another process, or revoked there: the database is the authority. */
  private async lookUp(prefix: string): Promise<ApiKey | null> {
    const key = await this.keys.findOneBy({ prefix });
    if (key && !key.revokedAt) this.remember(key);
    return key;
  }

  /** The next request with this key reads it from the database again. */
  private forget(prefix: string): void {
    this.byPrefix.delete(prefix);
  }

  private remember(key: ApiKey): void {
    this.byPrefix.set(key.prefix, this.entry(key));
  }

  private entry(key: ApiKey): { key: ApiKey; hash: Buffer } {
    return { key, hash: Buffer.from(key.hash, 'hex') };
  }

  private noteUse(key: ApiKey): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(key.id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(key.id, now);
    key.lastUsedAt = new Date(now);
    const write = this.keys
      .update({ id: key.id }, { lastUsedAt: key.lastUsedAt })
      .catch((error: unknown) =>
        this.logger.warn(`lastUsedAt of key ${key.prefix} not saved: ${String(error)}`),
      )
      .finally(() => this.pendingUseWrites.delete(write));
    this.pendingUseWrites.add(write);
  }

  /** Read-your-writes in this process: a key just used is listed with its lastUsedAt. */
  private async settleUseWrites(): Promise<void> {
    await Promise.all(this.pendingUseWrites);
  }

  /**
   * MODELDOCK_ADMIN_KEY, else DATA_DIR/admin.key; on the very first start that file is created
   * (mode 0600), so `npm start` is one command and secure by default. The log says where the key
   * is and how to use it, never the key itself: logs are shipped and kept where secrets must not be.
   */
  private bootstrapKey(): string {
    if (this.config.security.adminKey) return this.config.security.adminKey;
    const file = path.join(this.config.dataDir, ADMIN_KEY_FILE);
    try {
      const stored = readFileSync(file, 'utf8').trim();
      if (stored.length < MIN_ADMIN_KEY_LENGTH) {
        throw new Error(
          `${file} holds a key shorter than ${MIN_ADMIN_KEY_LENGTH} characters; delete the file to have a new key made.`,
        );
      }
      this.logger.log(`The admin API key is in ${this.howToUse(file)}`);
      return stored;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const key = `mdk_admin_${randomBytes(32).toString('base64url')}`;
    mkdirSync(this.config.dataDir, { recursive: true });
    // 'wx': never overwrite a key another process has just written.
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    this.logger.warn(
      'Created the admin API key (logs never show it; set MODELDOCK_ADMIN_KEY to use your own, ' +
        `and create keys for people and services with POST /v1/api-keys). It is in ${this.howToUse(file)}`,
    );
    return key;
  }

  /**
   * "<file>. Use it: export …; curl …": lines to paste into a shell. No double quotes, so they
   * paste the same from the JSON log as from pino-pretty.
   */
  private howToUse(file: string): string {
    const relative = path.relative(process.cwd(), file);
    const shown = relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
    const { host, port } = this.config;
    const reachable = ['0.0.0.0', '::'].includes(host) ? 'localhost' : host;
    const origin = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
    return (
      `${shown}. Use it: export MODELDOCK_KEY=$(cat ${shown}) && ` +
      `curl -H 'Authorization: Bearer '$MODELDOCK_KEY ${origin}/v1/models`
    );
  }
}
