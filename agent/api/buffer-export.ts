import type { Outbox, OutboxRecord } from '../outbox/index.js';

/** One page of records read from the outbox at a time: bounded memory whatever the backlog. */
const PAGE_RECORDS = 2000;
const PAGE_BYTES = 2 * 1024 * 1024;

export const CSV_COLUMNS = [
  'seq',
  'stream',
  'time',
  'clock',
  'channel',
  'device',
  'value',
  'unit',
  'quality',
  'reason',
  'event',
  'output',
  'rule',
  'cause',
] as const;

export interface TimeRange {
  /** Inclusive, ms UTC; undefined = from the oldest waiting record. */
  from?: number;
  /** Exclusive, ms UTC; undefined = up to the newest. */
  to?: number;
}

/** Parses an API time parameter: ISO 8601 text ("2024-05-01T10:00:00Z") or ms since the epoch. */
export function parseTime(text: string): number | undefined {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  // Date.parse accepts much; require something that starts like an ISO date so "5" or "yesterday" is refused.
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function field(payload: unknown, key: string): unknown {
  return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[key] : undefined;
}

/** The wall time a record is shown with: corrected where the outbox knows the clock was off at the time. */
export function recordTime(record: OutboxRecord): number {
  return record.correctedWallTs ?? record.wallTs;
}

function clockFlag(record: OutboxRecord): string {
  if (record.correctedWallTs !== undefined) return 'corrected';
  return record.clockSynced ? 'synced' : 'unsynced';
}

/** One CSV line for a telemetry or event record, in CSV_COLUMNS order. */
export function csvLine(record: OutboxRecord): string {
  const p = record.payload;
  const telemetry = record.stream === 'telemetry';
  const cells = [
    record.seq,
    record.stream,
    new Date(recordTime(record)).toISOString(),
    clockFlag(record),
    field(p, 'channelId'),
    telemetry ? field(p, 'deviceId') : undefined,
    field(p, 'value'),
    field(p, 'unit'),
    telemetry ? field(p, 'quality') : undefined,
    telemetry ? field(p, 'reason') : undefined,
    telemetry ? undefined : field(p, 'type'),
    telemetry ? undefined : field(p, 'outputId'),
    telemetry ? undefined : field(p, 'rule'),
    telemetry ? undefined : field(p, 'cause'),
  ];
  return cells.map(cell).join(',');
}

/**
 * The records still waiting for the broker whose time falls in the range, as CSV lines (header first), page by
 * page in seq order. Read-only: exporting acknowledges nothing and removes nothing.
 */
export async function* exportCsv(outbox: Pick<Outbox, 'read'>, range: TimeRange): AsyncGenerator<string> {
  yield CSV_COLUMNS.join(',') + '\n';
  let after = 0;
  for (;;) {
    const page = await outbox.read(after, PAGE_RECORDS, PAGE_BYTES);
    if (page.length === 0) return;
    let text = '';
    for (const record of page) {
      const ts = recordTime(record);
      if ((range.from === undefined || ts >= range.from) && (range.to === undefined || ts < range.to)) text += csvLine(record) + '\n';
    }
    if (text !== '') yield text;
    after = page[page.length - 1]!.seq;
  }
}
