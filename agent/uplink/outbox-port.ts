/**
 * What the uplink and the recorder need from the durable outbox (agent/outbox). Declared here structurally, so
 * the outbox satisfies it without either concern reaching into the other, and tests can hand in any
 * implementation of the same contract.
 */

export type OutboxStream = 'event' | 'telemetry';

export interface OutboxStamp {
  wallTs: number;
  monoTs: number;
  clockSynced: boolean;
}

export interface OutboxRecord extends OutboxStamp {
  /** Per-gateway sequence number; survives restarts; the platform dedupes on it. */
  seq: number;
  stream: OutboxStream;
  payload: unknown;
  /** Wall time recomputed once the clock was set, for records taken before the first sync. */
  correctedWallTs?: number;
}

/** The writing side: the recorder appends, synchronously, and never waits on the store. */
export interface OutboxAppender {
  append(stream: OutboxStream, payload: unknown, stamp: OutboxStamp): OutboxRecord;
}

/** The reading side: the uplink reads unacked records in seq order and acks them after PUBACK. */
export interface OutboxReader {
  /** Unacked records with seq > afterSeq, in seq order, at most maxRecords and about maxBytes. */
  read(afterSeq: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]>;
  /** Called only after the broker's PUBACK; out of order is fine. */
  ack(seqs: readonly number[]): void;
  onAppend(listener: (record: OutboxRecord) => void): () => void;
  stats(): { lastSeq: number };
}
