import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Actor } from '../auth/roles';
import { NotFoundError } from '../common/errors';
import { TransactionsService } from '../database/transactions.service';
import { RegisteredModel } from '../models/registered-model.entity';
import { RegistryEventsService } from '../models/registry-events.service';
import { DEFAULT_MONITORING, MonitoringSettings } from './monitoring-settings';

/** After a failed read of a model's rate, requests use the default this long before trying again. */
const RETRY_AFTER_MS = 5_000;

/** A model's id with its effective settings. */
export interface ModelMonitoring {
  modelId: string;
  settings: MonitoringSettings;
}

export function effectiveSettings(stored: MonitoringSettings | null): MonitoringSettings {
  return { ...DEFAULT_MONITORING, ...(stored ?? {}) };
}

/**
 * A model's monitoring settings: read and written in the registry's `monitoring` column, with the
 * sample rates the serving hot path draws against held in memory. A rate is read the first time a
 * model is asked about (the default serves meanwhile) and read again whenever the registry
 * announces a change to the model, here or on another replica.
 */
@Injectable()
export class MonitoringSettingsService {
  private readonly logger = new Logger('MonitoringSettings');
  private readonly rates = new Map<string, number>();
  /** Models whose rate is being read (or failed to be read a moment ago). */
  private readonly pending = new Set<string>();
  /** Reads are numbered so that an older read finishing last cannot undo a newer one. */
  private reads = 0;
  private readonly appliedRead = new Map<string, number>();

  constructor(
    @InjectRepository(RegisteredModel) private readonly models: Repository<RegisteredModel>,
    private readonly transactions: TransactionsService,
    private readonly events: RegistryEventsService,
  ) {
    events.onChange(async (model) => {
      if (this.rates.has(model)) await this.readRate(model);
    });
  }

  /** The fraction of `model`'s requests to log; synchronous, no I/O. */
  sampleRate(model: string): number {
    const rate = this.rates.get(model);
    if (rate !== undefined) return rate;
    if (!this.pending.has(model)) {
      this.pending.add(model);
      void this.readRate(model).then((read) => {
        if (read) this.pending.delete(model);
        else setTimeout(() => this.pending.delete(model), RETRY_AFTER_MS).unref();
      });
    }
    return DEFAULT_MONITORING.sampleRate;
  }

  async get(name: string): Promise<MonitoringSettings> {
    return (await this.find(name)).settings;
  }

  /** The model's id and settings; 404 when there is no such model. */
  async find(name: string): Promise<ModelMonitoring> {
    const model = await this.models.findOne({
      where: { name },
      select: { id: true, monitoring: true },
    });
    if (!model) throw notFound(name);
    return { modelId: model.id, settings: effectiveSettings(model.monitoring) };
  }

  /** Every model's id and settings, for retention. */
  async all(): Promise<ModelMonitoring[]> {
    const models = await this.models.find({ select: { id: true, monitoring: true } });
    return models.map((model) => ({
      modelId: model.id,
      settings: effectiveSettings(model.monitoring),
    }));
  }

  /**
   * Changes the settings given (the others keep their value) with an audit event, in one
   * transaction; resolves once this replica draws with the new rate.
   */
  async set(
    name: string,
    changes: Partial<MonitoringSettings>,
    actor: Actor,
  ): Promise<MonitoringSettings> {
    const settings = await this.transactions.run(async (manager) => {
      // Touching the row first locks it on PostgreSQL: concurrent changes merge one after the other.
      await manager.update(RegisteredModel, { name }, { updatedAt: new Date() });
      const model = await manager.findOne(RegisteredModel, {
        where: { name },
        select: { id: true, monitoring: true },
      });
      if (!model) throw notFound(name);
      const next = { ...effectiveSettings(model.monitoring), ...definedOnly(changes) };
      await manager.update(RegisteredModel, { id: model.id }, { monitoring: next });
      await this.events.record(manager, model.id, 'monitoring_set', { actor: actor.name });
      return next;
    });
    this.applyRate(name, ++this.reads, settings.sampleRate);
    await this.events.changed(name);
    return settings;
  }

  /** Reads `model`'s rate into the map; false when the read failed. Never throws. */
  private async readRate(model: string): Promise<boolean> {
    const read = ++this.reads;
    try {
      const row = await this.models.findOne({
        where: { name: model },
        select: { monitoring: true },
      });
      this.applyRate(model, read, effectiveSettings(row?.monitoring ?? null).sampleRate);
      return true;
    } catch (error) {
      this.logger.warn(`reading the sample rate of ${model} failed: ${String(error)}`);
      return false;
    }
  }

  private applyRate(model: string, read: number, rate: number): void {
    if (read < (this.appliedRead.get(model) ?? 0)) return;
    this.appliedRead.set(model, read);
    this.rates.set(model, rate);
  }
}

function definedOnly(changes: Partial<MonitoringSettings>): Partial<MonitoringSettings> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`Model ${name} does not exist. List models with GET /v1/models.`);
}
