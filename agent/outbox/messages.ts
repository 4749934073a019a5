import type { EncodableRecord, StoreState } from './format.js';
import type { Range } from './range-set.js';
import type { Runs } from './runs.js';
import type { OutboxEventType, OutboxStream } from './types.js';

/** What the main thread knows of a segment, to read it without asking the writer. */
export interface SegmentInfo {
  name: string;
  baseSeq: number;
  runId: string;
  /** Bytes known written (frames complete); reads stop here. */
  size: number;
  /** Highest data seq in the segment, or null if it holds none. */
  lastSeq: number | null;
  /** Sparse index: the frame of record sparseSeqs[i] starts at sparseOffsets[i]. */
  sparseSeqs: number[];
  sparseOffsets: number[];
}

export type SegmentUpdate =
  | { op: 'add'; segment: SegmentInfo }
  | { op: 'grow'; name: string; size: number; lastSeq: number | null; sparseSeqs: number[]; sparseOffsets: number[] }
  | { op: 'remove'; name: string }
  | { op: 'replace'; name: string; segment: SegmentInfo };

export interface WriterProgress {
  /** The last seq the writer has received. */
  lastReceived: number;
  /** Every record up to here is written (readable from the segment files). */
  writtenThrough: number;
  committedSeq: number;
  lastCommitMs: number | null;
  records: number;
  bytes: number;
  oldestSeq: number | null;
  ackedThrough: number;
  dropped: StoreState['dropped'];
  diskFull: boolean;
  writeError: string | null;
  damagedMovedAside: number;
  syncs: number;
}

export interface WriterInit {
  dir: string;
  maxBytes: number;
  maxAgeMs: number | null;
  flushIntervalMs: number;
  segmentBytes: number;
  memoryBytes: number;
  control: SharedArrayBuffer | undefined;
}

export type ToWriter =
  /**
   * Records and acks gathered on the main thread. Events are posted at once; telemetry and acks once per flush
   * interval with `commit` set, and the writer then runs its group commit at once: one message a second instead
   * of one per device poll, and the loss window stays one interval.
   */
  | { t: 'batch'; records: EncodableRecord[]; acks: Range[]; commit: boolean }
  | { t: 'correct'; offsetMs: number; throughSeq: number }
  | { t: 'flush'; id: number }
  | { t: 'close'; id: number };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromWriter =
  | {
      t: 'ready';
      nextSeq: number;
      runId: string;
      segments: SegmentInfo[];
      ackedThrough: number;
      ackedRanges: Range[];
      runs: Runs;
      skippedSeqs: { from: number; to: number } | null;
      skippedRanges: Array<{ from: number; to: number }>;
      progress: WriterProgress;
    }
  /** Segment changes first, then the figures: the main thread applies them in this order. */
  | { t: 'progress'; updates: SegmentUpdate[]; progress: WriterProgress }
  /** Records dropped unacked (ranges may include seqs of the other stream or acked ones: match on stream). */
  | { t: 'dropped'; ranges: Range[]; stream: OutboxStream; count: number; reason: string }
  | { t: 'runs'; runs: Runs }
  | { t: 'event'; type: OutboxEventType; detail: string }
  | { t: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  | { t: 'done'; id: number }
  | { t: 'fatal'; message: string };
