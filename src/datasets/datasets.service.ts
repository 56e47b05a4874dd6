import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { isUUID } from 'class-validator';
import { Repository } from 'typeorm';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors';
import { NAME_PATTERN, NAME_RULE } from '../common/names';
import { Page } from '../common/pagination';
import { summarizeColumn } from './column-stats';
import { checksumOf, decodeTabularData, encodeTabularData, sliceRows } from './column-codec';
import { parseCsv, parseRecords, parseRows } from './dataset-parser';
import { OBJECT_STORAGE, ObjectStorage } from '../storage/object-storage';
import { Dataset } from './dataset.entity';
import { DatasetParseError, TabularData } from './tabular-data';

/** Another module's veto on deleting a dataset: a reason, or null to allow it. */
export type DatasetDeletionCheck = (datasetId: string) => Promise<string | null>;

export type DatasetUpload =
  { kind: 'csv'; name: string | undefined; content: Buffer } | { kind: 'json'; body: unknown };

@Injectable()
export class DatasetsService {
  private readonly deletionChecks: DatasetDeletionCheck[] = [];

  constructor(
    @InjectRepository(Dataset) private readonly datasets: Repository<Dataset>,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  addDeletionCheck(check: DatasetDeletionCheck): void {
    this.deletionChecks.push(check);
  }

  async create(upload: DatasetUpload): Promise<Dataset> {
    const { name, data } = this.parse(upload);
    const content = encodeTabularData(data);
    const dataset = this.datasets.create({
      id: randomUUID(),
      // Set here rather than by the database default, which keeps only whole seconds.
      createdAt: new Date(),
      name,
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

  async rows(id: string, limit: number, offset: number) {
    const { dataset, data } = await this.loadData(id);
    return {
      columns: dataset.columns.map((column) => column.name),
      rows: sliceRows(data, offset, limit),
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

  private parse(upload: DatasetUpload): { name: string; data: TabularData } {
    try {
      if (upload.kind === 'csv') {
        if (!upload.name) {
          throw new InvalidInputError(
            'A CSV upload needs a name: POST /v1/datasets?name=my-data.',
            [{ field: 'name', message: 'is required as a query parameter for CSV uploads' }],
          );
        }
        return { name: upload.name, data: parseCsv(upload.content) };
      }
      const body = upload.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new InvalidInputError(
          'The body must be a JSON object: { "name", "columns", "rows" } or { "name", "records" }.',
        );
      }
      const { name, columns, rows, records } = body as Record<string, unknown>;
      const unknownKeys = Object.keys(body).filter(
        (key) => !['name', 'columns', 'rows', 'records'].includes(key),
      );
      if (unknownKeys.length > 0) {
        throw new InvalidInputError(
          `Unknown field(s) ${unknownKeys.join(', ')}; a dataset has name and either columns + rows or records.`,
          unknownKeys.map((field) => ({ field, message: 'is not a known property; remove it' })),
        );
      }
      if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
        throw new InvalidInputError(`The dataset name ${NAME_RULE}.`, [
          { field: 'name', message: NAME_RULE },
        ]);
      }
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

function contentKey(datasetId: string): string {
  return `datasets/${datasetId}`;
}
