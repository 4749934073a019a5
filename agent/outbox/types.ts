import type { Logger } from 'pino';

export type OutboxStream = 'event' | 'telemetry';

export interface OutboxStamp {
  wallTs: number;
  monoTs: number;
  clockSynced: boolean;
}

export interface OutboxRecord extends OutboxStamp {
  /** Per gateway, strictly increasing, survives restarts; never reused, even after a damaged store is replaced. */
  seq: number;
  stream: OutboxStream;
  /** JSON-serialisable (a reading batch or an event, built by the caller). */
  payload: unknown;
  /** Set when the clock was unsynced at append and a correction became known (see `Outbox.correctClock`). */
  correctedWallTs?: number;
}

export interface OutboxStats {
  /** Records held and not yet acked (on disk or waiting in memory). */
  records: number;
  /** Bytes of the store on disk plus records waiting in memory for the disk. */
  bytes: number;
  /** The oldest record not yet acked, or null when everything is acked. */
  oldestSeq: number | null;
  /** The last seq handed out. */
  lastSeq: number;
  /** Every record with a seq up to this one is acked or gone (dropped, or lost uncommitted in a crash). */
  ackedThrough: number;
  /** Records dropped unacked by the byte/age bounds or the memory bound while the disk was full, per stream. */
  dropped: { telemetry: number; event: number };
  diskFull: boolean;
  /** Every record up to this seq that still exists is on disk and synced (fdatasync). */
  committedSeq: number;
  /** Wall time of the last commit (fdatasync), for display only. */
  lastCommitMs: number | null;
  /** fsync/fdatasync calls by the writer since open: what wears an SD card. */
  syncs: number;
  /** Damaged store files (segments, the seq mark, the run registry) moved aside by this process. */
  damagedStoresMovedAside: number;
  /** The last write error other than a full disk (EIO, EROFS …), null when writes work. */
  writeError: string | null;
  /**
   * Seqs skipped at open after an unclean stop: they may have been handed out (and even sent live) by the
   * previous process but never reached the disk; they will never be sent. Null after a clean close.
   */
  skippedSeqs: { from: number; to: number } | null;
  /**
   * The ranges skipped at recent opens (the last 32), newest last, this open's included: a run killed before it
   * reached the platform could not name its own range, so the next births name them all.
   */
  skippedRanges: ReadonlyArray<{ from: number; to: number }>;
}

export type OutboxEventType = 'store-damaged' | 'disk-full' | 'disk-ok' | 'dropped' | 'writer-failed';

export interface OutboxEvent {
  type: OutboxEventType;
  detail: string;
}

export interface Outbox {
  /** Synchronous and non-blocking (the safety loop calls it): assigns the seq, hands the record to the writer thread. */
  append(stream: OutboxStream, payload: unknown, stamp: OutboxStamp): OutboxRecord;
  /** Records not yet acked, in seq order, starting after `afterSeq`, at most maxRecords / maxBytes (at least one). */
  read(afterSeq: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]>;
  /** The broker confirmed (PUBACK) these seqs; may arrive out of order and for ranges. Deletion happens only for acked records. */
  ack(seqs: readonly number[]): void;
  /** Listener for each append (main thread, synchronous). */
  onAppend(listener: (record: OutboxRecord) => void): () => void;
  /** The clock was just synchronised: `offsetMs` = true wall − believed wall, for this boot's unsynced records so far. */
  correctClock(offsetMs: number): void;
  stats(): OutboxStats;
  /** Commits everything appended so far (resolves after the attempt; `stats().committedSeq` says what made it). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Fault injection, shared with the writer thread: Int32 slots of a SharedArrayBuffer.
 * [0] ≠ 0: the writer waits before every sync (a stalled SD card); [1] ≠ 0: every write fails with ENOSPC.
 */
export interface OutboxTestHooks {
  control: SharedArrayBuffer;
}

export interface OutboxOptions {
  dir: string;
  /** Upper bound of the store on disk, in bytes. */
  maxBytes: number;
  /** Optional age bound for telemetry, measured on the store's own running clock (never wall time). */
  maxAgeMs?: number;
  /** Group commit interval for telemetry and acks; default 1000 ms. Events are committed at once. */
  flushIntervalMs?: number;
  /** Segment file size; default maxBytes / 8 clamped to 64 KiB … 8 MiB. */
  segmentBytes?: number;
  /** Records kept in memory at most while the disk cannot take them (full, failing); default 8 MiB. */
  memoryBytes?: number;
  /**
   * Recently appended records kept in memory for reads without disk; default 1 MiB (of JSON text: about 8,000
   * readings). While the broker is up they leave at their ack; in an outage the cache fills, and costs about
   * twice its size in heap (the strings and their entries), so it is kept small: older records come from disk.
   */
  cacheBytes?: number;
  onEvent?: (e: OutboxEvent) => void;
  logger?: Logger;
  testHooks?: OutboxTestHooks;
}
