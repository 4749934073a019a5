import { readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RangeSet, type Range } from './range-set.js';
import type { Outbox, OutboxRecord } from './types.js';

/** The reading side of the outbox for one platform (same contract as the outbox's own read/ack). */
export interface OutboxCursor {
  readonly name: string;
  read(afterSeq: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]>;
  ack(seqs: readonly number[]): void;
  onAppend(listener: (record: OutboxRecord) => void): () => void;
  stats(): { lastSeq: number };
  /** Everything up to this seq is delivered to this platform (or gone from the outbox). */
  ackedThrough(): number;
  /** Records this platform still has to receive, about. */
  pending(): number;
}

export interface OutboxCursors {
  cursor(name: string): OutboxCursor;
  /** Writes the cursor positions now (they are also written a second after every change). */
  save(): Promise<void>;
  close(): Promise<void>;
}

interface SavedCursor {
  ackedThrough: number;
  ranges: Range[];
}

interface SavedCursors {
  version: 1;
  cursors: Record<string, SavedCursor>;
}

function parseSaved(text: string): Map<string, SavedCursor> {
  const out = new Map<string, SavedCursor>();
  const value = JSON.parse(text) as Partial<SavedCursors>;
  if (value.version !== 1 || typeof value.cursors !== 'object' || value.cursors === null) return out;
  for (const [name, c] of Object.entries(value.cursors)) {
    if (!Number.isSafeInteger(c.ackedThrough) || !Array.isArray(c.ranges)) continue;
    const ranges = c.ranges.filter(
      (r): r is Range => Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]) && r[0] <= r[1],
    );
    out.set(name, { ackedThrough: c.ackedThrough, ranges });
  }
  return out;
}

class Cursor implements OutboxCursor {
  readonly acked: RangeSet;
  private through: number;

  constructor(
    readonly name: string,
    private readonly outbox: Outbox,
    saved: SavedCursor | undefined,
    private readonly onAcked: (cursor: Cursor, fresh: number[]) => void,
  ) {
    this.through = Math.max(saved?.ackedThrough ?? 0, outbox.stats().ackedThrough);
    this.acked = RangeSet.of(saved?.ranges ?? []);
    this.acked.removeThrough(this.through);
  }

  has(seq: number): boolean {
    return seq <= this.through || this.acked.has(seq);
  }

  ackedThrough(): number {
    return this.through;
  }

  /** Records everything the outbox no longer holds as done, so the set stays a handful of ranges. */
  trim(globalThrough: number): void {
    if (globalThrough > this.through) this.through = globalThrough;
    const end = this.acked.endOfRunContaining(this.through + 1);
    if (end !== null) this.through = end;
    this.acked.removeThrough(this.through);
  }

  /**
   * Records this platform has not acknowledged, after `afterSeq`, in seq order. Empty only at the end of the
   * outbox: a caller reads an empty answer as "nothing more", so runs this platform already has are skipped
   * (by its own acked ranges, without reading them) rather than answered with an empty slice.
   */
  async read(afterSeq: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]> {
    let after = Math.max(afterSeq, this.through);
    for (;;) {
      const skipTo = this.acked.endOfRunContaining(after + 1);
      if (skipTo !== null) after = skipTo;
      const records = await this.outbox.read(after, maxRecords, maxBytes);
      const last = records[records.length - 1];
      if (!last) return [];
      const mine = records.filter((r) => !this.has(r.seq));
      if (mine.length > 0) return mine;
      after = last.seq;
    }
  }

  ack(seqs: readonly number[]): void {
    const fresh: number[] = [];
    for (const seq of seqs) if (Number.isSafeInteger(seq) && !this.has(seq)) fresh.push(seq);
    if (fresh.length === 0) return;
    this.acked.addAll(fresh);
    this.trim(this.outbox.stats().ackedThrough);
    this.onAcked(this, fresh);
  }

  onAppend(listener: (record: OutboxRecord) => void): () => void {
    return this.outbox.onAppend(listener);
  }

  stats(): { lastSeq: number } {
    return { lastSeq: this.outbox.stats().lastSeq };
  }

  pending(): number {
    const stats = this.outbox.stats();
    // Every seq above our position we have not acknowledged, at most what the outbox holds (it may have dropped some).
    return Math.max(0, Math.min(stats.records, stats.lastSeq - this.through - this.acked.size()));
  }

  saved(): SavedCursor {
    return { ackedThrough: this.through, ranges: this.acked.toArray() };
  }
}

/**
 * Several platforms reading one outbox, each at its own pace: a record leaves the outbox once every platform
 * has it. Each platform's position (what it acknowledged) is kept in one small JSON file beside the outbox,
 * written atomically a second after a change; losing that file only means a platform receives some records
 * again, which it drops by seq. A new platform starts with what the outbox still holds.
 */
export function openCursors(outbox: Outbox, file: string, names: readonly string[]): OutboxCursors {
  let saved = new Map<string, SavedCursor>();
  try {
    saved = parseSaved(readFileSync(file, 'utf8'));
  } catch {
    // Absent or damaged: every platform starts with what the outbox holds (at-least-once, deduped by seq).
  }
  const cursors = new Map<string, Cursor>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const onAcked = (from: Cursor, fresh: number[]): void => {
    const everywhere = fresh.filter((seq) => [...cursors.values()].every((c) => c === from || c.has(seq)));
    if (everywhere.length > 0) outbox.ack(everywhere);
    timer ??= setTimeout(() => {
      timer = undefined;
      void save();
    }, 1000);
    timer.unref?.();
  };

  for (const name of names) {
    if (cursors.has(name)) throw new Error(`outbox cursor "${name}" given twice`);
    cursors.set(name, new Cursor(name, outbox, saved.get(name), onAcked));
  }
  // Records every platform had acknowledged before a crash, but the outbox had not yet recorded as acked.
  const all = [...cursors.values()];
  const [firstCursor] = all;
  if (firstCursor) {
    const common = firstCursor.acked.toArray().flatMap(([from, to]) => {
      const seqs: number[] = [];
      for (let seq = from; seq <= to && seqs.length < 1_000_000; seq++) if (all.every((c) => c.has(seq))) seqs.push(seq);
      return seqs;
    });
    if (common.length > 0) outbox.ack(common);
  }

  const save = (): Promise<void> => {
    const body: SavedCursors = { version: 1, cursors: {} };
    const through = outbox.stats().ackedThrough;
    for (const cursor of cursors.values()) {
      cursor.trim(through);
      body.cursors[cursor.name] = cursor.saved();
    }
    writing = writing.then(() => writeAtomically(file, JSON.stringify(body))).catch(() => undefined);
    return writing;
  };

  return {
    cursor(name) {
      const cursor = cursors.get(name);
      if (!cursor) throw new Error(`no outbox cursor "${name}" (known: ${[...cursors.keys()].join(', ')})`);
      return cursor;
    },
    save,
    async close() {
      clearTimeout(timer);
      timer = undefined;
      await save();
    },
  };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
