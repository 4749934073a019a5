import { encodeGroup, groupEnd, recordSize, type Batch, type BatchLimits } from './batch.js';
import type { OutboxReader, OutboxRecord } from './outbox-port.js';
import type { OutgoingMessage, PlatformProfile } from './profile.js';
import type { TokenBucket } from './token-bucket.js';
import type { PublishOutcome } from './transport.js';

/** Counters that outlive one connection. */
export interface DeliveryCounters {
  messages: number;
  liveRecords: number;
  historicalRecords: number;
  /** PUBACKs that carried an error reason code: the records stay in the outbox for the next connection. */
  rejectedMessages: number;
  /** Records with a payload no profile could encode: acked and dropped, counted here. */
  undecodable: number;
  /** Records this platform's profile failed to encode (a bug, or a value it cannot carry): acked and dropped for it. */
  unencodable: number;
  /** Times the live queue overflowed (window stuck) and its records were left to the backlog replay. */
  liveOverflows: number;
  /** Connections dropped because PUBACKs stopped coming. */
  ackTimeouts: number;
}

export function newCounters(): DeliveryCounters {
  return { messages: 0, liveRecords: 0, historicalRecords: 0, rejectedMessages: 0, undecodable: 0, unencodable: 0, liveOverflows: 0, ackTimeouts: 0 };
}

export interface DeliveryOptions {
  outbox: OutboxReader;
  publish: (message: OutgoingMessage, done: (outcome: PublishOutcome) => void) => void;
  profile: PlatformProfile;
  /** QoS 1 messages in flight at most (already the minimum of the setting and the broker's receive maximum). */
  window: number;
  /** Window slots the backlog replay leaves free for live data. */
  liveReserve: number;
  limits: BatchLimits;
  bucket: TokenBucket;
  /** Live records queued at most while the window is full; beyond it they are left to the backlog replay. */
  maxLiveRecords: number;
  /**
   * How long live telemetry may wait for more of its kind before it is sent (0: at once). Events never wait, and
   * take any waiting telemetry with them, so the order on the wire stays the seq order.
   */
  lingerMs: number;
  ackTimeoutMs: number;
  counters: DeliveryCounters;
  /** Called once when PUBACKs stop coming: the owner drops the connection. */
  onStall: (reason: string) => void;
  onRejected: (outcome: Extract<PublishOutcome, { kind: 'refused' }>, records: number) => void;
  onReadError: (error: unknown) => void;
  /** A record the profile could not encode (it is dropped for this platform; the owner logs it). */
  onEncodeError?: (error: unknown, seq: number) => void;
  /** Other QoS 1 messages of the same connection in flight (command results): they count against the window. */
  extraInflight?: () => number;
}

interface InFlight {
  batch: Batch;
  /** Messages of the batch still without an answer. */
  waiting: number;
  refusal: Extract<PublishOutcome, { kind: 'refused' }> | undefined;
  /** setTimeout runs on the monotonic clock; this is only compared with itself. */
  sentAt: number;
}

/** A seq range of the backlog still to replay: records with after < seq <= through. */
interface Range {
  after: number;
  through: number;
}

/**
 * One connection's delivery. At start, everything in the outbox up to its last seq is backlog: replayed in
 * seq order, marked historical, paced by the token bucket and kept out of the last `liveReserve` window slots.
 * Records appended after that are live: sent first, in seq order. Each record is read or queued once per
 * connection, so nothing is sent twice within it; the outbox is acked only on PUBACK, so whatever is in flight
 * when the connection ends is simply read again by the next one.
 */
export class DeliverySession {
  private readonly inflight = new Map<number, InFlight>();
  /** Messages published and not yet answered (a batch may have several). */
  private inflightMessages = 0;
  /** Messages of batches already taken on, waiting for a window slot: the window counts messages, not batches. */
  private readonly outgoing: Array<{ id: number; message: OutgoingMessage }> = [];
  private nextId = 1;
  private historicalInflight = 0;
  private readonly live: OutboxRecord[] = [];
  private readonly liveSizes: number[] = [];
  private liveHead = 0;
  private readonly ranges: Range[] = [];
  private readonly pending: Batch[] = [];
  private reading = false;
  private stopped = false;
  private boundary = 0;
  private unsubscribe: (() => void) | undefined;
  private pumpScheduled: NodeJS.Immediate | undefined;
  /** Live records may go: an event came, the linger ran out, or a batch is full. */
  private liveDue = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Waiting for every live record to be sent and acknowledged (a clean stop). */
  private liveSettledWaiters: Array<() => void> = [];
  private refillTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DeliveryOptions) {}

  /** Starts; returns the last seq counted as backlog. */
  start(): number {
    this.unsubscribe = this.options.outbox.onAppend((record) => this.onAppend(record));
    this.boundary = this.options.outbox.stats().lastSeq;
    if (this.boundary > 0) this.ranges.push({ after: 0, through: this.boundary });
    this.pump();
    return this.boundary;
  }

  /** Stops at once; returns the seqs that were in flight (sent, not acknowledged). */
  stop(): number[] {
    this.stopped = true;
    this.resolveLiveSettled();
    this.unsubscribe?.();
    if (this.pumpScheduled) clearImmediate(this.pumpScheduled);
    clearTimeout(this.lingerTimer);
    clearTimeout(this.refillTimer);
    clearTimeout(this.stallTimer);
    const seqs = [...this.inflight.values()].flatMap((f) => f.batch.seqs);
    this.inflight.clear();
    this.inflightMessages = 0;
    this.outgoing.length = 0;
    this.live.length = 0;
    this.liveSizes.length = 0;
    this.pending.length = 0;
    return seqs;
  }

  stats(): { inflight: number; liveQueued: number; historicalPending: number; backlogRanges: number; replaying: boolean } {
    return {
      inflight: this.inflightMessages,
      liveQueued: this.live.length - this.liveHead,
      historicalPending: this.pending.length,
      backlogRanges: this.ranges.length,
      replaying: this.ranges.length > 0 || this.pending.length > 0 || this.historicalInflight > 0,
    };
  }

  /** Window slots taken: our messages plus the connection's others. */
  used(): number {
    return this.inflightMessages + (this.options.extraInflight?.() ?? 0);
  }

  /**
   * Sends the live records that are lingering now, and resolves once no live record waits or is unacknowledged
   * (or the session stops): a clean stop delivers what it can instead of leaving the last poll for the next start.
   */
  settleLive(): Promise<void> {
    if (this.stopped || this.liveSettled()) return Promise.resolve();
    this.liveDue = true;
    const settled = new Promise<void>((resolve) => this.liveSettledWaiters.push(resolve));
    this.pump();
    return settled;
  }

  private liveSettled(): boolean {
    if (this.liveHead < this.live.length) return false;
    for (const flight of this.inflight.values()) if (!flight.batch.historical) return false;
    return true;
  }

  private resolveLiveSettled(): void {
    const waiters = this.liveSettledWaiters;
    this.liveSettledWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Something else freed a slot of the window. */
  poke(): void {
    if (!this.stopped) this.pump();
  }

  private get historicalLimit(): number {
    return Math.max(1, this.options.window - this.options.liveReserve);
  }

  private onAppend(record: OutboxRecord): void {
    if (this.stopped || record.seq <= this.boundary) return;
    this.live.push(record);
    this.liveSizes.push(recordSize(record));
    if (this.live.length - this.liveHead > this.options.maxLiveRecords) this.overflowLive();
    // A poll round's readings arrive device by device within a few hundred ms: lingering sends them as one
    // message instead of one per device, which is most of the uplink's CPU on a gateway at 1 Hz.
    const queued = this.live.length - this.liveHead;
    const due = record.stream !== 'telemetry' || this.options.lingerMs <= 0 || queued >= Math.min(this.options.limits.maxRecords, this.options.maxLiveRecords);
    if (due || this.liveDue) {
      this.liveDue = true;
      this.pumpScheduled ??= setImmediate(() => {
        this.pumpScheduled = undefined;
        this.pump();
      });
    } else {
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = undefined;
        this.liveDue = true;
        this.pump();
      }, this.options.lingerMs);
    }
  }

  /** The window is stuck and live data piles up: leave the queued records to the backlog replay (they are in the outbox). */
  private overflowLive(): void {
    const first = this.live[this.liveHead];
    const last = this.live[this.live.length - 1];
    this.live.length = 0;
    this.liveSizes.length = 0;
    this.liveHead = 0;
    if (!first || !last) return;
    this.options.counters.liveOverflows++;
    const tail = this.ranges[this.ranges.length - 1];
    if (tail && tail.through === first.seq - 1) tail.through = last.seq;
    else this.ranges.push({ after: first.seq - 1, through: last.seq });
  }

  private pump(): void {
    this.drainOutgoing();
    while (!this.stopped && this.outgoing.length === 0 && this.used() < this.options.window) {
      if (this.liveDue && this.liveHead < this.live.length) {
        this.sendLive();
        continue;
      }
      const next = this.pending[0];
      if (next && this.historicalInflight < this.historicalLimit) {
        this.pending.shift();
        this.send(next);
        continue;
      }
      break;
    }
    if (this.liveHead >= this.live.length && this.liveDue) {
      this.liveDue = false;
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.liveSettledWaiters.length > 0 && this.liveSettled()) this.resolveLiveSettled();
    this.maybeRead();
  }

  private sendLive(): void {
    const end = groupEnd(this.live, this.liveSizes, this.liveHead, this.options.limits);
    const group = this.live.slice(this.liveHead, end);
    this.liveHead = end;
    if (this.liveHead === this.live.length) {
      this.live.length = 0;
      this.liveSizes.length = 0;
      this.liveHead = 0;
    } else if (this.liveHead > 4096 && this.liveHead * 2 > this.live.length) {
      this.live.splice(0, this.liveHead);
      this.liveSizes.splice(0, this.liveHead);
      this.liveHead = 0;
    }
    for (const batch of this.encode(group, false)) this.send(batch);
  }

  private encode(group: readonly OutboxRecord[], historical: boolean): Batch[] {
    try {
      return this.encoded(group, historical);
    } catch {
      // One by one, so a record the profile cannot encode costs only itself, never the timers that called us.
      const batches: Batch[] = [];
      for (const record of group) {
        try {
          batches.push(...this.encoded([record], historical));
        } catch (error) {
          this.options.counters.unencodable++;
          this.ackOutbox([record.seq]);
          try {
            this.options.onEncodeError?.(error, record.seq);
          } catch {
            // diagnostics only
          }
        }
      }
      return batches;
    }
  }

  private encoded(group: readonly OutboxRecord[], historical: boolean): Batch[] {
    const { batches, undecodable } = encodeGroup(this.options.profile, group, historical, this.options.limits.maxBytes);
    if (undecodable.length > 0) {
      this.options.counters.undecodable += undecodable.length;
      this.ackOutbox(undecodable);
    }
    return batches;
  }

  private send(batch: Batch): void {
    if (batch.messages.length === 0) {
      // Nothing for this platform in these records (a profile may leave some out): delivered as far as it goes.
      this.ackOutbox(batch.seqs);
      return;
    }
    const id = this.nextId++;
    this.inflight.set(id, { batch, waiting: batch.messages.length, refusal: undefined, sentAt: performance.now() });
    if (batch.historical) this.historicalInflight++;
    this.armStallTimer();
    for (const message of batch.messages) this.outgoing.push({ id, message });
    this.drainOutgoing();
  }

  /** Publishes waiting messages while the window has room (the broker's receive maximum holds per message). */
  private drainOutgoing(): void {
    while (!this.stopped && this.outgoing.length > 0 && this.used() < this.options.window) {
      const next = this.outgoing.shift();
      if (!next) break;
      this.inflightMessages++;
      this.options.publish(next.message, (outcome) => this.onPuback(next.id, outcome));
    }
  }

  private onPuback(id: number, outcome: PublishOutcome): void {
    // Lost with the connection: it stays in flight, so stop() reports it (it may have reached the broker).
    if (this.stopped || outcome.kind === 'lost') return;
    const flight = this.inflight.get(id);
    if (!flight) return;
    flight.waiting--;
    this.inflightMessages--;
    if (outcome.kind === 'refused') flight.refusal ??= outcome;
    if (flight.waiting > 0) {
      this.pump();
      return;
    }
    this.inflight.delete(id);
    if (flight.batch.historical) this.historicalInflight--;
    const { counters } = this.options;
    if (flight.refusal) {
      counters.rejectedMessages++;
      this.options.onRejected(flight.refusal, flight.batch.seqs.length);
    } else {
      this.ackOutbox(flight.batch.seqs);
      counters.messages += flight.batch.messages.length;
      if (flight.batch.historical) counters.historicalRecords += flight.batch.seqs.length;
      else counters.liveRecords += flight.batch.seqs.length;
    }
    if (this.inflight.size === 0) {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
    this.pump();
  }

  private ackOutbox(seqs: readonly number[]): void {
    try {
      this.options.outbox.ack(seqs);
    } catch (error) {
      this.options.onReadError(error);
    }
  }

  private armStallTimer(): void {
    if (this.stallTimer || this.stopped) return;
    const oldest = this.inflight.values().next().value;
    if (!oldest) return;
    const wait = Math.max(0, oldest.sentAt + this.options.ackTimeoutMs - performance.now());
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.stopped) return;
      const first = this.inflight.values().next().value;
      if (!first) return;
      if (performance.now() - first.sentAt >= this.options.ackTimeoutMs) {
        this.options.counters.ackTimeouts++;
        this.options.onStall(`no PUBACK for ${this.options.ackTimeoutMs} ms`);
        return;
      }
      this.armStallTimer();
    }, wait);
    this.stallTimer.unref?.();
  }

  /** Reads the next slice of the backlog when the replay has room and tokens; one read at a time. */
  private maybeRead(): void {
    if (this.stopped || this.reading || this.refillTimer || this.pending.length > 0) return;
    const range = this.ranges[0];
    if (!range) return;
    const freeSlots = this.historicalLimit - this.historicalInflight;
    if (freeSlots <= 0) return;
    const { bucket, limits } = this.options;
    const want = Math.min(limits.maxRecords, bucket.burst);
    const wait = bucket.msUntil(want);
    if (wait > 0) {
      this.refillTimer = setTimeout(() => {
        this.refillTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const maxRecords = Math.max(1, Math.min(Math.floor(bucket.available()), freeSlots * limits.maxRecords));
    const maxBytes = freeSlots * limits.maxBytes;
    this.reading = true;
    this.options.outbox.read(range.after, maxRecords, maxBytes).then(
      (records) => {
        this.reading = false;
        if (this.stopped) return;
        try {
          this.onRead(range, records);
        } catch (error) {
          this.options.onReadError(error);
        }
      },
      (error: unknown) => {
        this.reading = false;
        if (this.stopped) return;
        this.options.onReadError(error);
        // Try again after a pause rather than spinning on a failing store.
        this.refillTimer = setTimeout(() => {
          this.refillTimer = undefined;
          this.pump();
        }, 1000);
      },
    );
  }

  private onRead(range: Range, records: readonly OutboxRecord[]): void {
    const within = records.filter((r) => r.seq > range.after && r.seq <= range.through);
    const last = within[within.length - 1];
    const exhausted = !last || within.length < records.length || last.seq >= range.through;
    if (last) range.after = last.seq;
    if (exhausted && this.ranges[0] === range) this.ranges.shift();
    this.options.bucket.take(within.length);
    const sizes = within.map(recordSize);
    for (let from = 0; from < within.length; ) {
      const end = groupEnd(within, sizes, from, this.options.limits);
      this.pending.push(...this.encode(within.slice(from, end), true));
      from = end;
    }
    this.pump();
  }
}
