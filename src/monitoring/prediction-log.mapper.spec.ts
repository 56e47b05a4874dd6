import { parse } from 'csv-parse/sync';
import type { PredictionLogEntry } from './prediction-log.entity';
import {
  CSV_COLUMNS,
  CSV_HEADER,
  toCsvRow,
  toJsonLine,
  toPredictionLogEntryResponse,
} from './prediction-log.mapper';

const entry: PredictionLogEntry = {
  id: '42',
  modelId: 'm-1',
  version: 3,
  alias: null,
  requestId: 'r-1',
  route: 'v1',
  apiKeyId: 'key-1',
  rows: 2,
  latencyMs: 1.25,
  inputs: '{"instances":[{"city":"Paris, \\"FR\\"","size":3},[1,2]]}',
  outputs: '{"predictions":["a\\nb",2]}',
  createdAt: new Date('2026-12-01T10:00:00.123Z'),
};

describe('prediction log mapper', () => {
  it('writes a JSON line equal to the API item', () => {
    const line = toJsonLine('house', entry);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual(toPredictionLogEntryResponse('house', entry));
    expect(JSON.parse(line)).toMatchObject({
      id: 42,
      time: '2026-12-01T10:00:00.123Z',
      alias: null,
    });
  });

  it('quotes CSV cells so that a CSV reader gets the JSON back', () => {
    const [header, row] = parse(CSV_HEADER + toCsvRow(entry), { relax_quotes: false });
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(row).toEqual([
      '2026-12-01T10:00:00.123Z',
      'r-1',
      '3',
      '',
      'v1',
      'key-1',
      '2',
      '1.25',
      entry.inputs,
      entry.outputs,
    ]);
  });
});
