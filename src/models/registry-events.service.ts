import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page } from '../common/pagination';
import { ModelEvent, ModelEventAction } from './model-event.entity';

export type EventFields = Partial<
  Pick<ModelEvent, 'alias' | 'fromVersion' | 'toVersion' | 'actor'>
>;

/**
 * The registry's audit trail and its change feed: events are written in the transaction that makes
 * the change; listeners (the prediction cache) hear of a model once that transaction has committed.
 */
@Injectable()
export class RegistryEventsService {
  private readonly listeners: ((model: string) => void)[] = [];

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

  onChange(listener: (model: string) => void): void {
    this.listeners.push(listener);
  }

  /** Call after the change has committed. */
  changed(model: string): void {
    for (const listener of this.listeners) listener(model);
  }
}
