import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { InvalidInputError } from '../common/errors';
import { Page } from '../common/pagination';
import { MetricsService } from '../metrics/metrics.service';
import { parseVersion } from '../models/version-number';
import { elementCount } from '../tensors/datatypes';
import { serialiseInputs, serialiseOutputs } from './log-payload';
import type { PredictionLogEntry, PredictionRoute } from './prediction-log.entity';
import { LogFilter, NewLogEntry, PredictionLogRepository } from './prediction-log.repository';
import { MonitoringSettingsService } from './monitoring-settings.service';

/** What the serving routes hand over for one answered request (see the module's docs). */
export interface LoggedPrediction {
  modelId: string;
  model: string;
  version: number;
  /** The alias the request was served through, or null when it named a version. */
  alias: string | null;
  requestId: string;
  route: PredictionRoute;
  apiKeyId: string | null;
  rows: number;
  latencyMs: number;
  time: Date;
  /** v1: `{ instances }` as received; v2: `{ inputs }` (tensors; data may be typed arrays). */
  inputs: { instances: unknown[] } | { inputs: unknown[] };
  /** v1: `{ predictions, probabilities?, classes? }`; v2: `{ outputs }` (tensors). */
  outputs: Record<string, unknown>;
}

export interface PredictionLogLimits {
  /** Entries waiting for the database; beyond, new ones are dropped (and counted). */
  capacity: number;
  /** And their inputs' approximate size: a log of 16 MiB requests must not hold 10,000 of them. */
  maxBytes: number;
  /** How often the buffer is written. */
  flushIntervalMs: number;
}

export const PREDICTION_LOG_LIMITS = Symbol('PREDICTION_LOG_LIMITS');

/**
 * A second's worth of 10,000 logged requests: a database that stalls costs at most this many
 * entries, or 128 MiB of their inputs, in memory, never the process.
 */
export const DEFAULT_LIMITS: PredictionLogLimits = {
  capacity: 10_000,
  maxBytes: 128 * 1024 * 1024,
  flushIntervalMs: 1_000,
};

/**
 * Rows written in one transaction: one commit (one fsync on SQLite) instead of one per INSERT,
 * while SQLite's single writer is held for tens of milliseconds at most.
 */
const ROWS_PER_TRANSACTION = 1_000;

/** Entries an export reads per query. */
const EXPORT_PAGE = 1_000;

/** Why an entry never reached the database. */
type DropReason = 'buffer_full' | 'unserialisable' | 'write_failed';

/**
 * The sampled prediction log. The serving hot path asks `shouldLog` (a draw, no I/O) and hands
 * over what it answered with `offer` (a push onto a bounded buffer); a timer writes the buffer in
 * multi-row INSERTs, serialising each entry on the way. Logging is best effort: a prediction never
 * waits for it or fails because of it; what cannot be kept is dropped and counted.
 */
@Injectable()
export class PredictionLogService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PredictionLog');
  private readonly limits: PredictionLogLimits;
  private buffer: LoggedPrediction[] = [];
  private bufferedBytes = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly written: Counter<'model'>;
  private readonly dropped: Counter<'model' | 'reason'>;

  constructor(
    private readonly settings: MonitoringSettingsService,
    private readonly repository: PredictionLogRepository,
    private readonly metrics: MetricsService,
    @Optional() @Inject(PREDICTION_LOG_LIMITS) limits?: PredictionLogLimits,
  ) {
    this.limits = limits ?? DEFAULT_LIMITS;
    this.written = new Counter({
      name: 'modeldock_prediction_log_entries_total',
      help: 'Prediction log entries written to the database, by model.',
      labelNames: ['model'] as const,
      registers: [metrics.registry],
    });
    this.dropped = new Counter({
      name: 'modeldock_prediction_log_dropped_total',
      help: 'Sampled prediction log entries lost, by model and reason (buffer_full, unserialisable, write_failed).',
      labelNames: ['model', 'reason'] as const,
      registers: [metrics.registry],
    });
    const buffered: Gauge = new Gauge({
      name: 'modeldock_prediction_log_buffered',
      help: 'Prediction log entries waiting to be written.',
      registers: [metrics.registry],
      collect: () => buffered.set(this.buffer.length),
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.flushing) void this.flush();
    }, this.limits.flushIntervalMs);
    this.timer.unref();
  }

  /** After the HTTP server has closed (app.shutdown.ts) and before the database does. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Whether to log this request of `model`: a draw against its sample rate; no I/O. */
  shouldLog(model: string): boolean {
    const rate = this.settings.sampleRate(model);
    return rate > 0 && Math.random() < rate;
  }

  /** Queues an entry; never throws, never waits. */
  offer(entry: LoggedPrediction): void {
    const bytes = approximateBytes(entry.inputs);
    if (
      this.buffer.length >= this.limits.capacity ||
      this.bufferedBytes + bytes > this.limits.maxBytes
    ) {
      this.drop(entry.model, 'buffer_full');
      return;
    }
    this.buffer.push(entry);
    this.bufferedBytes += bytes;
  }

  /** Writes what is buffered now (after any write under way); never throws. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    this.flushing = this.write(batch).finally(() => (this.flushing = null));
    await this.flushing;
  }

  /** The model's entries a query asks for; 404 for an unknown model, 400 for a bad range. */
  async filterFor(
    name: string,
    query: { version?: string; from?: string; to?: string },
  ): Promise<LogFilter> {
    const { modelId } = await this.settings.find(name);
    const from = query.from === undefined ? undefined : new Date(query.from);
    const to = query.to === undefined ? undefined : new Date(query.to);
    if (from && to && from > to) {
      throw new InvalidInputError(`from (${query.from}) is after to (${query.to}).`, [
        { field: 'from', message: 'must not be after to' },
      ]);
    }
    const version =
      query.version === undefined ? undefined : parseVersion(query.version, 'version');
    return { modelId, version, from, to };
  }

  list(filter: LogFilter, limit: number, offset: number): Promise<Page<PredictionLogEntry>> {
    return this.repository.page(filter, limit, offset);
  }

  /** Every matching entry, newest first, in pages read one at a time from the database. */
  export(filter: LogFilter): AsyncGenerator<PredictionLogEntry[]> {
    return this.repository.all(filter, EXPORT_PAGE);
  }

  /**
   * Per model, in transactions of up to ROWS_PER_TRANSACTION rows (one commit, not one per INSERT):
   * a model deleted since its requests were answered (its entries fail the foreign key) costs only
   * its own entries. Entries are serialised an INSERT's worth at a time, letting requests in
   * between, since a large one takes milliseconds.
   */
  private async write(batch: LoggedPrediction[]): Promise<void> {
    const byModel = new Map<string, LoggedPrediction[]>();
    for (const entry of batch) {
      const entries = byModel.get(entry.modelId);
      if (entries) entries.push(entry);
      else byModel.set(entry.modelId, [entry]);
    }
    const chunk = this.repository.rowsPerInsert;
    for (const entries of byModel.values()) {
      const model = entries[0].model;
      for (let start = 0; start < entries.length; start += ROWS_PER_TRANSACTION) {
        const end = Math.min(start + ROWS_PER_TRANSACTION, entries.length);
        const rows: NewLogEntry[] = [];
        for (let from = start; from < end; from += chunk) {
          rows.push(...this.serialise(entries.slice(from, Math.min(from + chunk, end))));
          await new Promise(setImmediate);
        }
        if (rows.length === 0) continue;
        try {
          await this.repository.insert(rows);
          this.written.inc({ model: this.metrics.modelLabel(model) }, rows.length);
        } catch (error) {
          this.drop(model, 'write_failed', rows.length);
          // The driver's message only: the statement's parameters hold the requests' data.
          const message = error instanceof Error ? error.message : String(error);
          this.logger.error(
            `writing ${rows.length} prediction log entries of model ${model} failed; they are dropped: ${message.slice(0, 300)}`,
          );
        }
      }
    }
  }

  /** Rows for the entries that serialise; the others are dropped one by one. */
  private serialise(entries: LoggedPrediction[]): NewLogEntry[] {
    const rows: NewLogEntry[] = [];
    for (const entry of entries) {
      try {
        rows.push({
          modelId: entry.modelId,
          version: entry.version,
          alias: entry.alias,
          requestId: entry.requestId,
          route: entry.route,
          apiKeyId: entry.apiKeyId,
          rows: entry.rows,
          latencyMs: entry.latencyMs,
          inputs: serialiseInputs(entry.inputs),
          outputs: serialiseOutputs(entry.outputs),
          createdAt: entry.time,
        });
      } catch (error) {
        this.drop(entry.model, 'unserialisable');
        this.logger.warn(
          `prediction log entry of request ${entry.requestId} (model ${entry.model}) not serialisable; dropped: ${String(error)}`,
        );
      }
    }
    return rows;
  }

  private drop(model: string, reason: DropReason, count = 1): void {
    this.dropped.inc({ model: this.metrics.modelLabel(model), reason }, count);
  }
}

/** 16 bytes a value: a number in an array and its share of the array; cheap enough per request. */
function approximateBytes(inputs: LoggedPrediction['inputs']): number {
  if ('instances' in inputs) {
    const first: unknown = inputs.instances[0];
    const width = Array.isArray(first)
      ? first.length
      : typeof first === 'object' && first !== null
        ? Object.keys(first).length
        : 1;
    return inputs.instances.length * width * 16;
  }
  let bytes = 0;
  for (const tensor of inputs.inputs) {
    const { data, shape } = tensor as { data?: unknown; shape?: number[] };
    if (ArrayBuffer.isView(data)) bytes += data.byteLength;
    // JSON data may be nested: its shape says how many values it holds.
    else if (Array.isArray(data) && shape) bytes += elementCount(shape) * 16;
  }
  return bytes;
}
