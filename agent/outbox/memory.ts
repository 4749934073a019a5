import type { Range } from './range-set.js';
import type { OutboxStream } from './types.js';

/** A record as the main thread keeps it: the payload as JSON, so a caller mutating its object changes nothing. */
export interface MemEntry {
  seq: number;
  stream: OutboxStream;
  json: string;
  wallTs: number;
  monoTs: number;
  clockSynced: boolean;
}

/**
 * The recent records of this run, in seq order: all that the writer has not yet written (they exist nowhere
 * else in this thread) plus a bounded cache of written ones, so live reads need no disk.
 */
export class MemoryWindow {
  private entries: MemEntry[] = [];
  private head = 0;
  private totalChars = 0;

  get length(): number {
    return this.entries.length - this.head;
  }

  get chars(): number {
    return this.totalChars;
  }

  push(entry: MemEntry): void {
    this.entries.push(entry);
    this.totalChars += entry.json.length;
  }

  firstSeq(): number | null {
    return this.entries[this.head]?.seq ?? null;
  }

  /** Position of the first entry with seq > after. */
  indexAfter(after: number): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  at(index: number): MemEntry | undefined {
    return index >= this.head ? this.entries[index] : undefined;
  }

  /** Forgets written entries from the front while over the cache budget (or already acked). */
  evict(writtenThrough: number, budgetChars: number, isAcked: (seq: number) => boolean): void {
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head]!;
      if (entry.seq > writtenThrough || (this.totalChars <= budgetChars && !isAcked(entry.seq))) break;
      this.totalChars -= entry.json.length;
      this.head++;
    }
    this.compactSoon();
  }

  /** Drops entries the writer dropped (ranges of seqs, of one stream). */
  remove(ranges: readonly Range[], stream: OutboxStream): void {
    if (ranges.length === 0) return;
    const inRanges = (seq: number): boolean => ranges.some(([from, to]) => seq >= from && seq <= to);
    const kept: MemEntry[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (entry.stream === stream && inRanges(entry.seq)) this.totalChars -= entry.json.length;
      else kept.push(entry);
    }
    this.entries = kept;
    this.head = 0;
  }

  /** Entries not yet written and not acked. */
  countUnwritten(writtenThrough: number, isAcked: (seq: number) => boolean): number {
    let n = 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (entry.seq > writtenThrough && !isAcked(entry.seq)) n++;
    }
    return n;
  }

  /** Oldest-first drop of unwritten telemetry (then events) down to a budget: only when the writer is gone. */
  dropUnwritten(writtenThrough: number, budgetChars: number): { telemetry: number; event: number } {
    const dropped = { telemetry: 0, event: 0 };
    let unwritten = 0;
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i]!.seq > writtenThrough) unwritten += this.entries[i]!.json.length;
    if (unwritten <= budgetChars) return dropped;
    for (const stream of ['telemetry', 'event'] as const) {
      const kept: MemEntry[] = [];
      for (let i = this.head; i < this.entries.length; i++) {
        const entry = this.entries[i]!;
        if (unwritten > budgetChars && entry.stream === stream && entry.seq > writtenThrough) {
          unwritten -= entry.json.length;
          this.totalChars -= entry.json.length;
          dropped[stream]++;
        } else kept.push(entry);
      }
      this.entries = kept;
      this.head = 0;
    }
    return dropped;
  }

  /** Entries the array still references, the evicted ones not yet compacted away included. */
  get retained(): number {
    return this.entries.length;
  }

  /**
   * Evicted entries stay referenced from the front of the array until it is compacted: at most a quarter more
   * than the live ones (or 1,024), not as many again. In a long outage the cache is full and moves on by a record
   * at a time, so the slack is memory held for nothing (measured: 20,000 entries held for 10,000 live).
   */
  private compactSoon(): void {
    if (this.head >= 1024 && this.head * 4 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
