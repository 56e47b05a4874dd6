import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page } from '../common/pagination';
import { ModelEvent, ModelEventAction } from './model-event.entity';

export type EventFields = Partial<
  Pick<ModelEvent, 'alias' | 'fromVersion' | 'toVersion' | 'actor'>
>;

/** Hears of a committed change to a model; must not throw (serving logs its own failures). */
export type ChangeListener = (model: string) => Promise<void> | void;

/**
 * The registry's audit trail and its change feed: events are written in the transaction that makes
 * the change; listeners (the prediction cache) hear of a model once that transaction has committed.
 */
@Injectable()
export class RegistryEventsService {
  private readonly listeners: ChangeListener[] = [];

  constructor(@InjectRepository(ModelEvent) private readonly events: Repository<ModelEvent>) {}

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
    await Promise.all(this.listeners.map((listener) => listener(model)));
  }
}
