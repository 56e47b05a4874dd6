import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { isUUID } from 'class-validator';
import { Repository } from 'typeorm';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors';
import { NAME_PATTERN, NAME_RULE } from '../common/names';
import { Page } from '../common/pagination';
import { summarizeColumn } from './column-stats';
import {
  checksumOf,
  decodeTabularData,
  EncodedSource,
  encodeTabularData,
  readRowsFromFile,
  sliceRows,
} from './column-codec';
import { DatasetIngest } from './dataset-ingest';
import type { JsonMalformation, JsonReadOptions } from './json-table-reader';
import { parseRecords, parseRows } from './dataset-parser';
import { OBJECT_STORAGE, ObjectStorage } from '../storage/object-storage';
import { StoredObjectsSweeper } from '../storage/stored-objects-sweeper';
import { Dataset } from './dataset.entity';
import { DatasetParseError, TabularData } from './tabular-data';
import type { EncodedFile } from './column-output';
import type { ReadTable } from './table-columns';

/** Another module's veto on deleting a dataset: a reason, or null to allow it. */
export type DatasetDeletionCheck = (datasetId: string) => Promise<string | null>;

/**
 * An upload: a CSV's or a JSON body's bytes as they arrive, with its name (known once they are
 * read: a form's name field may follow its file), or a JSON body already parsed.
 */
export type DatasetUpload =
  | { kind: 'csv'; bytes: AsyncIterable<Buffer>; name: () => Promise<string | undefined> }
  | {
      kind: 'json-stream';
      bytes: AsyncIterable<Buffer>;
      options: JsonReadOptions;
      /**
       * Settles what names the upload besides its body (a form's name field), then gives the
       * rule that names it from the body's own name, or its absence.
       */
      name: () => Promise<(own: { value: unknown } | undefined) => unknown>;
      /** The error for a text that is not acceptable JSON, as the route words it. */
      malformed: (problem: JsonMalformation) => Error;
    }
  | { kind: 'json'; body: unknown };

@Injectable()
export class DatasetsService {
  private readonly deletionChecks: DatasetDeletionCheck[] = [];

  constructor(
    @InjectRepository(Dataset) private readonly datasets: Repository<Dataset>,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly ingest: DatasetIngest,
    sweeper: StoredObjectsSweeper,
  ) {
    sweeper.claim(CONTENT_PREFIX, async () =>
      (await this.datasets.find({ select: { id: true } })).map((dataset) => contentKey(dataset.id)),
    );
  }

  addDeletionCheck(check: DatasetDeletionCheck): void {
    this.deletionChecks.push(check);
  }

  async create(upload: DatasetUpload): Promise<Dataset> {
    if (upload.kind === 'csv') return this.createFromCsv(upload);
    if (upload.kind === 'json-stream') return this.createFromJson(upload);
    const { name, data } = this.parseJson(upload.body);
    const content = encodeTabularData(data);
    const dataset = this.newDataset(name, {
      rowCount: data.rowCount,
      columns: data.columns.map(summarizeColumn),
      checksum: checksumOf(content),
      sizeBytes: content.length,
    });
    // Contents first: a dataset row always has its contents (a crash in between leaves only an
    // unreferenced object behind).
    await this.storage.put(contentKey(dataset.id), content);
    await this.datasets.insert(dataset);
    return this.get(dataset.id);
  }

  /**
   * A CSV read as it arrives (DatasetIngest): the encoding is assembled in a staging file and moved
   * into the store. The answer's order is the one a whole body read first gives: the body's own
   * problems (too large, a broken form), then its name, then the CSV's.
   */
  private async createFromCsv(upload: Extract<DatasetUpload, { kind: 'csv' }>): Promise<Dataset> {
    const staged = await this.ingest.stage(upload.bytes);
    try {
      const name = await upload.name();
      if (!name) {
        throw new InvalidInputError('A CSV upload needs a name: POST /v1/datasets?name=my-data.', [
          { field: 'name', message: 'is required as a query parameter for CSV uploads' },
        ]);
      }
      const outcome = await staged.outcome;
      if ('invalid' in outcome) {
        throw new InvalidInputError(outcome.invalid.message, outcome.invalid.errors);
      }
      if (!('table' in outcome)) throw new Error('the CSV upload was abandoned');
      return await this.keep(name, outcome.table);
    } finally {
      await staged.discard();
    }
  }

  /**
   * A JSON body read as it arrives, in the ingest thread, as a CSV is; its problems answered in
   * the order a body parsed whole met them: the body's own (too large, a broken form), the form's
   * name field, the JSON text, the body's shape, its name, then the table.
   */
  private async createFromJson(
    upload: Extract<DatasetUpload, { kind: 'json-stream' }>,
  ): Promise<Dataset> {
    const staged = await this.ingest.stage(upload.bytes, { json: upload.options });
    try {
      const nameOf = await upload.name();
      const outcome = await staged.outcome;
      if (!('json' in outcome)) throw new Error('the JSON upload was abandoned');
      const reading = outcome.json;
      if ('malformed' in reading) throw upload.malformed(reading.malformed);
      const isTable =
        reading.top === 'object' || (reading.top === 'array' && upload.options.bareArrayIsRecords);
      if (!isTable) throw notAnObject();
      const name = nameOf(reading.ownName);
      checkKnownFields(reading.unknownKeys);
      checkName(name);
      if ('problem' in reading.table) {
        throw new InvalidInputError(reading.table.problem.message, reading.table.problem.errors);
      }
      return await this.keep(name, reading.table.read);
    } finally {
      await staged.discard();
    }
  }

  /** An ingested table's encoding moved into the store, then its row: a row always has its contents. */
  private async keep(
    name: string,
    { result, rowCount, columns }: ReadTable<EncodedFile>,
  ): Promise<Dataset> {
    const dataset = this.newDataset(name, {
      rowCount,
      columns,
      checksum: result.checksum,
      sizeBytes: result.sizeBytes,
    });
    await this.storage.putFile(contentKey(dataset.id), result.file);
    await this.datasets.insert(dataset);
    return this.get(dataset.id);
  }

  private newDataset(
    name: string,
    fields: Pick<Dataset, 'rowCount' | 'columns' | 'checksum' | 'sizeBytes'>,
  ): Dataset {
    return this.datasets.create({
      id: randomUUID(),
      // Set here rather than by the database default, which keeps only whole seconds.
      createdAt: new Date(),
      name,
      ...fields,
    });
  }

  async list(limit: number, offset: number): Promise<Page<Dataset>> {
    const [items, total] = await this.datasets.findAndCount({
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }

  async get(id: string): Promise<Dataset> {
    const dataset = await this.datasets.findOneBy({ id });
    if (!dataset) {
      throw new NotFoundError(`Dataset ${id} does not exist. List datasets with GET /v1/datasets.`);
    }
    return dataset;
  }

  /**
   * A dataset by id, or by name: the newest dataset of that name (names need not be unique; a new
   * upload under a name supersedes the older ones for training).
   */
  async findByIdOrName(ref: string): Promise<Dataset> {
    const [found] = isUUID(ref)
      ? await this.datasets.find({ where: { id: ref }, take: 1 })
      : NAME_PATTERN.test(ref)
        ? await this.datasets.find({
            where: { name: ref },
            order: { createdAt: 'DESC', id: 'ASC' },
            take: 1,
          })
        : [];
    if (!found) {
      throw new NotFoundError(
        `No dataset has the id or name ${JSON.stringify(ref)}. List datasets with GET /v1/datasets, or upload one with POST /v1/datasets.`,
      );
    }
    return found;
  }

  /** The parsed table, decoded from its stored columnar form. */
  async loadData(id: string): Promise<{ dataset: Dataset; data: TabularData }> {
    const dataset = await this.get(id);
    const content = await this.storage.get(contentKey(id));
    if (!content) throw new Error(`the contents of dataset ${id} are missing from storage`);
    return { dataset, data: decodeTabularData(content) };
  }

  /**
   * A dataset's encoding for a thread to read its columns from: the file that holds it, when the
   * object store keeps files, or else the stored bytes (decoded in the thread, not here).
   */
  async contentsFor(id: string): Promise<{ dataset: Dataset; source: EncodedSource }> {
    const dataset = await this.get(id);
    if (this.storage.localFile) {
      return { dataset, source: { file: this.storage.localFile(contentKey(id)) } };
    }
    const encoded = await this.storage.get(contentKey(id));
    if (!encoded) throw new Error(`the contents of dataset ${id} are missing from storage`);
    return { dataset, source: { encoded } };
  }

  /** A page of rows: from the file, reading only that page's numbers, when the store keeps files. */
  async rows(id: string, limit: number, offset: number) {
    const dataset = await this.get(id);
    const file = this.storage.localFile?.(contentKey(id));
    const rows = file
      ? readRowsFromFile(file, offset, limit)
      : sliceRows((await this.loadData(id)).data, offset, limit);
    return {
      columns: dataset.columns.map((column) => column.name),
      rows,
      total: dataset.rowCount,
      limit,
      offset,
    };
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    for (const check of this.deletionChecks) {
      const reason = await check(id);
      if (reason) throw new ConflictError(reason);
    }
    await this.datasets.delete({ id });
    await this.storage.delete(contentKey(id));
  }

  private parseJson(body: unknown): { name: string; data: TabularData } {
    try {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw notAnObject();
      const { name, columns, rows, records } = body as Record<string, unknown>;
      checkKnownFields(Object.keys(body));
      checkName(name);
      if (records !== undefined && (columns !== undefined || rows !== undefined)) {
        throw new InvalidInputError('Send either records or columns + rows, not both.');
      }
      if (records !== undefined) return { name, data: parseRecords(records) };
      if (columns === undefined || rows === undefined) {
        throw new InvalidInputError('Send the table as columns + rows, or as records.', [
          { field: columns === undefined ? 'columns' : 'rows', message: 'is required' },
        ]);
      }
      return { name, data: parseRows(columns, rows) };
    } catch (error) {
      if (error instanceof DatasetParseError)
        throw new InvalidInputError(error.message, error.errors);
      throw error;
    }
  }
}

function notAnObject(): InvalidInputError {
  return new InvalidInputError(
    'The body must be a JSON object: { "name", "columns", "rows" } or { "name", "records" }.',
  );
}

/** Refuses keys of a dataset body other than name, columns, rows and records. */
function checkKnownFields(keys: readonly string[]): void {
  const unknownKeys = keys.filter((key) => !['name', 'columns', 'rows', 'records'].includes(key));
  if (unknownKeys.length > 0) {
    throw new InvalidInputError(
      `Unknown field(s) ${unknownKeys.join(', ')}; a dataset has name and either columns + rows or records.`,
      unknownKeys.map((field) => ({ field, message: 'is not a known property; remove it' })),
    );
  }
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidInputError(`The dataset name ${NAME_RULE}.`, [
      { field: 'name', message: NAME_RULE },
    ]);
  }
}

const CONTENT_PREFIX = 'datasets';

function contentKey(datasetId: string): string {
  return `${CONTENT_PREFIX}/${datasetId}`;
}
