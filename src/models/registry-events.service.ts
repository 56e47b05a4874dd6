import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, MoreThan, Repository } from 'typeorm';
import { ClusterEventsService } from '../cluster/cluster-events.service';
import { Page } from '../common/pagination';
import { appConfig, AppConfig } from '../config/app.config';
import { RegisteredModel } from './registered-model.entity';
import { ModelEvent, ModelEventAction } from './model-event.entity';

export type EventFields = Partial<
  Pick<ModelEvent, 'alias' | 'fromVersion' | 'toVersion' | 'actor'>
>;

/** Hears of a committed change to a model; must not throw (serving logs its own failures). */
export type ChangeListener = (model: string) => Promise<void> | void;

/**
 * The registry's audit trail and its change feed: events are written in the transaction that makes
 * the change; listeners (the prediction cache) hear of a model once that transaction has committed.
 *
 * With other replicas (REDIS_URL), a change made here is announced to them, and changes made there
 * reach the listeners here: at once over pub/sub, and by re-reading the events table every
 * CLUSTER_RECHECK_MS in case a message was lost.
 */
@Injectable()
export class RegistryEventsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RegistryEvents');
  private readonly listeners: ChangeListener[] = [];
  private lastSeenEventId = 0;
  private recheckTimer: NodeJS.Timeout | undefined;

  constructor(
    @InjectRepository(ModelEvent) private readonly events: Repository<ModelEvent>,
    private readonly cluster: ClusterEventsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.cluster.distributed) return;
    this.cluster.subscribe('registry.changed', ({ model }) => this.notifyListeners(model));
    this.lastSeenEventId = await this.latestEventId();
    this.recheckTimer = setInterval(() => void this.recheck(), this.config.cluster.recheckMs);
    this.recheckTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.recheckTimer);
  }

  async record(
    manager: EntityManager,
    modelId: string,
    action: ModelEventAction,
    fields: EventFields = {},
  ): Promise<void> {
    await manager.insert(ModelEvent, {
      createdAt: new Date(),
      modelId,
      action,
      alias: fields.alias ?? null,
      fromVersion: fields.fromVersion ?? null,
      toVersion: fields.toVersion ?? null,
      actor: fields.actor ?? null,
    });
  }

  /** Part of deleting a model: its trail goes with it. */
  async deleteAll(manager: EntityManager, modelId: string): Promise<void> {
    await manager.delete(ModelEvent, { modelId });
  }

  async list(modelId: string, limit: number, offset: number): Promise<Page<ModelEvent>> {
    const [items, total] = await this.events.findAndCount({
      where: { modelId },
      order: { id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Call after the change has committed; resolves once every listener has caught up (serving has
   * loaded the version an alias now points at), so the change is answered only when it is live.
   */
  async changed(model: string): Promise<void> {
    await this.notifyListeners(model);
    await this.cluster.publish('registry.changed', { model });
  }

  private async notifyListeners(model: string): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener(model)));
  }

  /** The safety net under pub/sub: models with events newer than the last seen. */
  private async recheck(): Promise<void> {
    try {
      const newer = await this.events.find({
        where: { id: MoreThan(this.lastSeenEventId) },
        select: { id: true, modelId: true },
        order: { id: 'ASC' },
      });
      if (newer.length === 0) return;
      this.lastSeenEventId = newer[newer.length - 1].id;
      const ids = [...new Set(newer.map((event) => event.modelId))];
      const models = await this.events.manager.find(RegisteredModel, {
        where: ids.map((id) => ({ id })),
        select: { name: true },
      });
      for (const { name } of models) await this.notifyListeners(name);
    } catch (error) {
      this.logger.warn(`re-checking registry changes failed: ${String(error)}`);
    }
  }

  private async latestEventId(): Promise<number> {
    const [latest] = await this.events.find({
      select: { id: true },
      order: { id: 'DESC' },
      take: 1,
    });
    return latest?.id ?? 0;
  }
}
