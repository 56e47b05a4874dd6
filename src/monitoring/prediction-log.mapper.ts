import type { PredictionLogEntryResponse } from './dto/prediction-log.dto';
import type { PredictionLogEntry } from './prediction-log.entity';

type EntryFields = Omit<PredictionLogEntryResponse, 'inputs' | 'outputs'>;

function fieldsOf(model: string, entry: PredictionLogEntry): EntryFields {
  return {
    // bigint on PostgreSQL, read as text; entry ids stay far below 2^53.
    id: Number(entry.id),
    time: entry.createdAt.toISOString(),
    requestId: entry.requestId,
    model,
    version: entry.version,
    alias: entry.alias,
    route: entry.route,
    apiKeyId: entry.apiKeyId,
    rows: entry.rows,
    latencyMs: entry.latencyMs,
  };
}

export function toPredictionLogEntryResponse(
  model: string,
  entry: PredictionLogEntry,
): PredictionLogEntryResponse {
  return {
    ...fieldsOf(model, entry),
    inputs: JSON.parse(entry.inputs) as Record<string, unknown>,
    outputs: JSON.parse(entry.outputs) as Record<string, unknown>,
  };
}

/**
 * The same object as one line of JSON. The stored inputs and outputs are JSON text already: they
 * are spliced in rather than parsed and written again, which would dominate a long export.
 */
export function toJsonLine(model: string, entry: PredictionLogEntry): string {
  const fields = JSON.stringify(fieldsOf(model, entry));
  return `${fields.slice(0, -1)},"inputs":${entry.inputs},"outputs":${entry.outputs}}\n`;
}

export const CSV_COLUMNS = [
  'time',
  'requestId',
  'version',
  'alias',
  'route',
  'apiKeyId',
  'rows',
  'latencyMs',
  'inputs',
  'outputs',
] as const;

/** RFC 4180: lines end in CRLF; a cell with a quote, comma or line break is quoted, quotes doubled. */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

export function toCsvRow(entry: PredictionLogEntry): string {
  const cells = [
    entry.createdAt.toISOString(),
    entry.requestId,
    String(entry.version),
    entry.alias ?? '',
    entry.route,
    entry.apiKeyId ?? '',
    String(entry.rows),
    String(entry.latencyMs),
    entry.inputs,
    entry.outputs,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
