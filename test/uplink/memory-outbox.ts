import type { OutboxRecord, OutboxStamp, OutboxStream } from '../../agent/uplink/index.js';

/**
 * InMemoryOutbox: a complete, non-durable implementation of the outbox contract (agent/outbox), for the
 * uplink tests. Same semantics that the uplink relies on: seq per append starting at 1, read returns unacked
 * records after a seq in seq order, ack out of order, onAppend synchronous in append. It also counts what the
 * tests check: acks of unknown or already acked seqs, and reads.
 */
export class InMemoryOutbox {
  private readonly unacked = new Map<number, OutboxRecord>();
  /** Seqs in append order (increasing); acked ones are skipped and compacted away. */
  private order: number[] = [];
  private head = 0;
  private lastSeq = 0;
  private bytes = 0;
  private readonly listeners = new Set<(record: OutboxRecord) => void>();
  readonly counters = { appends: 0, reads: 0, acks: 0, unknownAcks: 0 };

  constructor(firstSeq = 1) {
    this.lastSeq = firstSeq - 1;
  }

  append(stream: OutboxStream, payload: unknown, stamp: OutboxStamp): OutboxRecord {
    const record: OutboxRecord = { seq: ++this.lastSeq, stream, payload, wallTs: stamp.wallTs, monoTs: stamp.monoTs, clockSynced: stamp.clockSynced };
    this.unacked.set(record.seq, record);
    this.order.push(record.seq);
    this.bytes += JSON.stringify(payload).length;
    this.counters.appends++;
    for (const listener of this.listeners) listener(record);
    return record;
  }

  async read(afterSeq: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]> {
    this.counters.reads++;
    await new Promise((resolve) => setImmediate(resolve));
    const out: OutboxRecord[] = [];
    let bytes = 0;
    // first index with seq > afterSeq
    let lo = this.head;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.order[mid] ?? 0) <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.order.length && out.length < maxRecords; i++) {
      const record = this.unacked.get(this.order[i] ?? -1);
      if (!record) continue;
      const size = JSON.stringify(record.payload).length;
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(record);
    }
    return out;
  }

  ack(seqs: readonly number[]): void {
    for (const seq of seqs) {
      const record = this.unacked.get(seq);
      if (!record) {
        this.counters.unknownAcks++;
        continue;
      }
      this.unacked.delete(seq);
      this.bytes -= JSON.stringify(record.payload).length;
      this.counters.acks++;
    }
    while (this.head < this.order.length && !this.unacked.has(this.order[this.head] ?? -1)) this.head++;
    if (this.head > 10_000 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  onAppend(listener: (record: OutboxRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  correctClock(offsetMs: number): void {
    for (const record of this.unacked.values()) {
      if (!record.clockSynced && record.correctedWallTs === undefined) record.correctedWallTs = record.wallTs + offsetMs;
    }
  }

  stats(): {
    records: number;
    bytes: number;
    oldestSeq: number | null;
    lastSeq: number;
    ackedThrough: number;
    dropped: { telemetry: number; event: number };
    diskFull: boolean;
  } {
    const oldest = this.order[this.head];
    return {
      records: this.unacked.size,
      bytes: this.bytes,
      oldestSeq: oldest ?? null,
      lastSeq: this.lastSeq,
      ackedThrough: oldest === undefined ? this.lastSeq : oldest - 1,
      dropped: { telemetry: 0, event: 0 },
      diskFull: false,
    };
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
