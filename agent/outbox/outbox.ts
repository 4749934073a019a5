import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readSkipped, SKIPPED_FILE } from './skipped.js';
import type { EncodableRecord } from './format.js';
import { MemoryWindow, type MemEntry } from './memory.js';
import type { FromWriter, ToWriter, WriterInit, WriterProgress } from './messages.js';
import { RangeSet, type Range } from './range-set.js';
import { DiskReader } from './reader.js';
import { correctionFor, type Runs } from './runs.js';
import { readSeqMark, SEQ_MARK_FILE, SEQ_RESERVE } from './seq-mark.js';
import type { Outbox, OutboxEvent, OutboxOptions, OutboxRecord, OutboxStamp, OutboxStats, OutboxStream } from './types.js';

const MiB = 1024 * 1024;

/**
 * Telemetry held on the main thread goes to the writer at once past this many records: the writer keeps the seq
 * mark SEQ_RESERVE / 2 ahead of what it has received, and a record may already have gone out live, so what is
 * held here must stay well inside that (a reused seq after a kill would be dropped by the platform as a duplicate).
 */
const MAX_HELD_RECORDS = SEQ_RESERVE / 10;

/** The writer thread's script: next to this module once built; from dist/ when this runs from the sources (tests). */
function writerScript(): URL {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new URL('./writer-worker.js', import.meta.url);
  const root = resolve(dirname(here), '..', '..');
  const built = join(root, 'dist', 'agent', 'outbox', 'writer-worker.js');
  if (!existsSync(built)) throw new Error(`the outbox writer thread runs from the build: run "npm run build" first (${built} is missing)`);
  return pathToFileURL(built);
}

export function defaultSegmentBytes(maxBytes: number): number {
  return Math.min(8 * MiB, Math.max(64 * 1024, Math.floor(maxBytes / 8)));
}

/**
 * Opens (or creates) the outbox in `dir`: starts the writer thread, which recovers the store (torn tail cut,
 * damaged files moved aside and reported) before this resolves. It does not reject for a store that cannot be
 * used at all (read-only or failing card): the outbox then runs in memory only (bounded, reported as
 * 'writer-failed'), so the agent and its safety loop still start.
 */
export async function openOutbox(options: OutboxOptions): Promise<Outbox> {
  if (!(options.maxBytes > 0)) throw new RangeError('outbox maxBytes must be positive');
  const init: WriterInit = {
    dir: options.dir,
    maxBytes: options.maxBytes,
    maxAgeMs: options.maxAgeMs ?? null,
    flushIntervalMs: options.flushIntervalMs ?? 1000,
    segmentBytes: options.segmentBytes ?? defaultSegmentBytes(options.maxBytes),
    memoryBytes: options.memoryBytes ?? 8 * MiB,
    control: options.testHooks?.control,
  };
  const worker = new Worker(writerScript(), { workerData: init });
  const early = (message: FromWriter): void => dispatchSide(message, options);
  return new Promise<Outbox>((resolvePromise) => {
    const onError = (error: Error): void => {
      worker.off('message', onMessage);
      resolvePromise(memoryOnly(options, `writer thread failed: ${error.message}`));
    };
    const onMessage = (message: FromWriter): void => {
      if (message.t === 'ready') {
        worker.off('message', onMessage);
        worker.off('error', onError);
        resolvePromise(new DurableOutbox(worker, message, options));
      } else if (message.t === 'fatal') {
        worker.off('message', onMessage);
        worker.off('error', onError);
        void worker.terminate();
        resolvePromise(memoryOnly(options, message.message));
      } else {
        early(message);
      }
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
}

/**
 * The store cannot be opened: keep records in memory only. A reused seq would make the platform drop new records
 * as duplicates, and a mark that cannot be written cannot reserve anything: two memory-only runs in a row (a
 * read-only or full card, a kill between them) would start at the same place. So seq starts from the wall clock
 * in µs, which moves on faster than any run hands out seqs (and stays a safe integer until the year 2255), and
 * never below a reservation above the mark where one can still be read (for a clock not yet set).
 */
function memoryOnly(options: OutboxOptions, reason: string): Outbox {
  const mark = readSeqMark(join(options.dir, SEQ_MARK_FILE));
  const nextSeq = Math.max(mark.status === 'ok' ? mark.hwm + SEQ_RESERVE + 1 : 1, Date.now() * 1000);
  const detail = `the outbox in ${options.dir} cannot be used (${reason}): records are kept in memory only`;
  const ready: FromWriter & { t: 'ready' } = {
    t: 'ready',
    nextSeq,
    runId: 'memory-only',
    segments: [],
    ackedThrough: nextSeq - 1,
    ackedRanges: [],
    runs: { 'memory-only': { kernelBootId: '', startedWallMs: Date.now(), corrections: [] } },
    skippedSeqs: null,
    // What the store's list still says (read only: nothing can be written here). This run's own jump to the
    // wall clock is not named: without the log there is no knowing where the last run stopped.
    skippedRanges: readSkipped(join(options.dir, SKIPPED_FILE)).ranges,
    progress: {
      lastReceived: nextSeq - 1,
      writtenThrough: nextSeq - 1,
      committedSeq: nextSeq - 1,
      lastCommitMs: null,
      records: 0,
      bytes: 0,
      oldestSeq: null,
      ackedThrough: nextSeq - 1,
      dropped: { telemetry: 0, event: 0 },
      diskFull: false,
      writeError: reason,
      damagedMovedAside: 0,
      syncs: 0,
    },
  };
  const outbox = new DurableOutbox(null, ready, options);
  dispatchSide({ t: 'event', type: 'writer-failed', detail }, options);
  return outbox;
}

/** Events and log lines from the writer, delivered on the main thread. */
function dispatchSide(message: FromWriter, options: OutboxOptions): void {
  if (message.t === 'event') {
    const event: OutboxEvent = { type: message.type, detail: message.detail };
    const level = message.type === 'disk-ok' ? 'info' : message.type === 'dropped' ? 'warn' : 'error';
    options.logger?.[level]({ outbox: options.dir, event: event.type }, event.detail);
    try {
      options.onEvent?.(event);
    } catch (error) {
      options.logger?.error({ error: (error as Error).message }, 'outbox onEvent listener threw');
    }
  } else if (message.t === 'log') {
    options.logger?.[message.level]({ outbox: options.dir, ...message.fields }, message.msg);
  }
}

class DurableOutbox implements Outbox {
  private lastSeq: number;
  private readonly runId: string;
  private runs: Runs;
  private readonly mem = new MemoryWindow();
  private readonly reader: DiskReader;
  private readonly acked: RangeSet;
  private ackedThrough: number;
  private progress: WriterProgress;
  private readonly skippedSeqs: { from: number; to: number } | null;
  private readonly skippedRanges: ReadonlyArray<{ from: number; to: number }>;
  private toPost: EncodableRecord[] = [];
  private toAck: number[] = [];
  /** The next batch to the writer: telemetry and acks wait up to one flush interval, as the writer's commit does. */
  private scheduled: NodeJS.Timeout | undefined;
  private readonly flushIntervalMs: number;
  private readonly listeners = new Set<(record: OutboxRecord) => void>();
  private readonly calls = new Map<number, () => void>();
  private nextCallId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;
  private writerAlive = true;
  private writerFailure: string | null = null;
  private readonly lostWithWriter = { telemetry: 0, event: 0 };
  private readonly cacheChars: number;
  private readonly memoryChars: number;

  constructor(
    /** Null when the store could not be opened: memory only. */
    private readonly worker: Worker | null,
    ready: FromWriter & { t: 'ready' },
    private readonly options: OutboxOptions,
  ) {
    this.lastSeq = ready.nextSeq - 1;
    this.runId = ready.runId;
    this.runs = ready.runs;
    this.progress = ready.progress;
    this.skippedSeqs = ready.skippedSeqs;
    this.skippedRanges = ready.skippedRanges;
    this.ackedThrough = ready.ackedThrough;
    this.acked = RangeSet.of(ready.ackedRanges);
    this.reader = new DiskReader(options.dir);
    this.reader.reset(ready.segments);
    this.cacheChars = options.cacheBytes ?? MiB;
    this.memoryChars = options.memoryBytes ?? 8 * MiB;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    if (!worker) {
      this.writerAlive = false;
      this.writerFailure = ready.progress.writeError ?? 'no writer';
      return;
    }
    worker.on('message', (message: FromWriter) => this.onMessage(message));
    worker.on('error', (error) => this.writerGone(`outbox writer thread failed: ${error.message}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.writerGone(`outbox writer thread exited (code ${code})`);
    });
    worker.unref();
  }

  // ————— writing side —————

  append(stream: OutboxStream, payload: unknown, stamp: OutboxStamp): OutboxRecord {
    if (this.closed) throw new Error('outbox is closed');
    if (stream !== 'event' && stream !== 'telemetry') throw new TypeError(`unknown outbox stream ${String(stream)}`);
    const json = JSON.stringify(payload) as string | undefined;
    if (typeof json !== 'string') throw new TypeError('outbox payload is not JSON-serialisable');
    const seq = ++this.lastSeq;
    const entry: MemEntry = { seq, stream, json, wallTs: stamp.wallTs, monoTs: stamp.monoTs, clockSynced: stamp.clockSynced };
    this.mem.push(entry);
    this.toPost.push(entry);
    if (stream === 'event') {
      this.pump(); // the writer writes and commits an event (and the telemetry before it) at once
    } else if (this.toPost.length >= MAX_HELD_RECORDS) {
      this.pump();
      this.schedule(); // what went is written but not committed: the commit still comes within the interval
    } else {
      this.schedule();
    }
    const record: OutboxRecord = { seq, stream, payload, wallTs: stamp.wallTs, monoTs: stamp.monoTs, clockSynced: stamp.clockSynced };
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch (error) {
        this.options.logger?.error({ error: (error as Error).message }, 'outbox onAppend listener threw');
      }
    }
    return record;
  }

  onAppend(listener: (record: OutboxRecord) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  ack(seqs: readonly number[]): void {
    const fresh: number[] = [];
    for (const seq of seqs) {
      if (Number.isSafeInteger(seq) && seq > this.ackedThrough && seq <= this.lastSeq && !this.acked.has(seq)) fresh.push(seq);
    }
    if (fresh.length === 0) return;
    this.acked.addAll(fresh);
    for (const seq of fresh) this.toAck.push(seq);
    this.schedule();
  }

  correctClock(offsetMs: number): void {
    if (!Number.isFinite(offsetMs)) throw new TypeError('clock offset must be a finite number of milliseconds');
    const throughSeq = this.lastSeq;
    this.runs[this.runId]?.corrections.push({ throughSeq, offsetMs });
    this.send({ t: 'correct', offsetMs, throughSeq });
  }

  /**
   * Telemetry and acks go to the writer once per flush interval, in one message that also runs its group
   * commit: telemetry is committed at that pace anyway, so holding it here costs no durability (kill -9 or
   * power cut, the window is one interval either way) and saves a message each way per device poll.
   */
  private schedule(): void {
    if (this.scheduled !== undefined) return;
    const timer = setTimeout(() => this.pump(true), this.writerAlive ? this.flushIntervalMs : 0);
    timer.unref();
    this.scheduled = timer;
  }

  /** Hands everything appended and acked so far to the writer; `commit`: and has it run its group commit now. */
  private pump(commit = false): void {
    if (this.scheduled !== undefined) {
      clearTimeout(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.toPost.length > 0 || this.toAck.length > 0 || commit) {
      const records = this.toPost;
      this.toPost = [];
      let acks: Range[] = [];
      if (this.toAck.length > 0) {
        const set = new RangeSet();
        set.addAll(this.toAck);
        this.toAck = [];
        acks = set.toArray();
      }
      this.send({ t: 'batch', records, acks, commit });
    }
    if (!this.writerAlive) this.boundMemoryWithoutWriter();
  }

  private send(message: ToWriter): void {
    if (!this.writerAlive || !this.worker) return;
    this.worker.postMessage(message);
  }

  private call(make: (id: number) => ToWriter): Promise<void> {
    const worker = this.worker;
    if (!this.writerAlive || !worker) return Promise.resolve();
    const id = this.nextCallId++;
    return new Promise<void>((resolveCall) => {
      this.calls.set(id, resolveCall);
      worker.ref();
      worker.postMessage(make(id));
    });
  }

  async flush(): Promise<void> {
    if (this.closed) return;
    this.pump();
    await this.call((id) => ({ t: 'flush', id }));
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.pump();
    this.closed = true;
    this.closing = (async () => {
      await this.call((id) => ({ t: 'close', id }));
      this.listeners.clear();
      await this.worker?.terminate();
    })();
    return this.closing;
  }

  // ————— messages from the writer —————

  private onMessage(message: FromWriter): void {
    switch (message.t) {
      case 'progress':
        this.reader.apply(message.updates);
        this.progress = message.progress;
        if (message.progress.ackedThrough > this.ackedThrough) {
          this.ackedThrough = message.progress.ackedThrough;
          this.acked.removeThrough(this.ackedThrough);
        }
        this.mem.evict(message.progress.writtenThrough, this.cacheChars, (seq) => this.isAcked(seq));
        break;
      case 'dropped':
        this.mem.remove(message.ranges, message.stream);
        break;
      case 'runs':
        this.runs = message.runs;
        break;
      case 'done': {
        const resolveCall = this.calls.get(message.id);
        this.calls.delete(message.id);
        if (this.calls.size === 0) this.worker?.unref();
        resolveCall?.();
        break;
      }
      case 'ready':
      case 'fatal':
        break;
      default:
        dispatchSide(message, this.options);
    }
  }

  private writerGone(detail: string): void {
    if (!this.writerAlive) return;
    this.writerAlive = false;
    this.writerFailure = detail;
    dispatchSide({ t: 'event', type: 'writer-failed', detail: `${detail}; records are kept in memory only, up to ${this.memoryChars} bytes` }, this.options);
    for (const resolveCall of this.calls.values()) resolveCall();
    this.calls.clear();
  }

  /** Without a writer, memory is the only store: same policy, oldest telemetry first. */
  private boundMemoryWithoutWriter(): void {
    const dropped = this.mem.dropUnwritten(this.progress.writtenThrough, this.memoryChars);
    this.lostWithWriter.telemetry += dropped.telemetry;
    this.lostWithWriter.event += dropped.event;
  }

  // ————— reading side —————

  private isAcked(seq: number): boolean {
    return seq <= this.ackedThrough || this.acked.has(seq);
  }

  private correctedWall(runId: string, seq: number, wallTs: number): number | undefined {
    const offset = correctionFor(this.runs[runId], seq);
    return offset === undefined ? undefined : Math.round(wallTs + offset);
  }

  async read(afterSeq: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]> {
    const out: OutboxRecord[] = [];
    if (!(maxRecords >= 1)) return out;
    let after = Math.max(afterSeq, this.ackedThrough);
    let bytes = 0;
    const context = {
      wanted: (seq: number) => !this.isAcked(seq),
      correctedWall: (runId: string, seq: number, wallTs: number) => this.correctedWall(runId, seq, wallTs),
      onDamage: (detail: string) => dispatchSide({ t: 'event', type: 'store-damaged', detail }, this.options),
    };
    // Disk first for anything older than the memory window; the window can move on while a disk read is in
    // flight (records get written and leave memory), so look again after each one.
    for (let attempts = 0; ; attempts++) {
      const memFirst = this.mem.firstSeq() ?? this.lastSeq + 1;
      if (after + 1 >= memFirst || !this.reader.has(after, memFirst)) break;
      // Never go on to newer records while older ones may be on disk unread: return what there is, or fail
      // (the caller tries again later) rather than answer "nothing left".
      if (attempts >= 100) {
        if (out.length > 0) return out;
        throw new Error('outbox read: the segment index did not catch up with the writer; try again');
      }
      const result = await this.reader.read(after, memFirst, { maxRecords: maxRecords - out.length, maxBytes: maxBytes - bytes }, context);
      for (const record of result.records) out.push(record);
      bytes += result.bytes;
      const last = result.records[result.records.length - 1];
      if (result.limited) return out;
      if (result.retry) {
        // A segment went (acked, or rewritten by a drop) after the index was read: let the writer's update arrive.
        if (last) after = last.seq;
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      after = Math.max(after, memFirst - 1);
    }
    const current = this.runs[this.runId];
    for (let i = this.mem.indexAfter(after); out.length < maxRecords; i++) {
      const entry = this.mem.at(i);
      if (!entry) break;
      if (this.isAcked(entry.seq)) continue;
      if (out.length > 0 && bytes + entry.json.length > maxBytes) break;
      bytes += entry.json.length;
      const record: OutboxRecord = {
        seq: entry.seq,
        stream: entry.stream,
        payload: JSON.parse(entry.json) as unknown,
        wallTs: entry.wallTs,
        monoTs: entry.monoTs,
        clockSynced: entry.clockSynced,
      };
      if (!entry.clockSynced) {
        const offset = correctionFor(current, entry.seq);
        if (offset !== undefined) record.correctedWallTs = entry.wallTs + offset;
      }
      out.push(record);
    }
    return out;
  }

  stats(): OutboxStats {
    const p = this.progress;
    const unseen = Math.max(0, this.lastSeq - p.lastReceived);
    return {
      records: this.writerAlive ? p.records + unseen : this.mem.countUnwritten(p.writtenThrough, (seq) => this.isAcked(seq)) + p.records,
      bytes: p.bytes,
      oldestSeq: p.oldestSeq ?? (unseen > 0 ? p.lastReceived + 1 : null),
      lastSeq: this.lastSeq,
      ackedThrough: Math.max(p.ackedThrough, this.ackedThrough),
      dropped: { telemetry: p.dropped.telemetry + this.lostWithWriter.telemetry, event: p.dropped.event + this.lostWithWriter.event },
      diskFull: p.diskFull,
      committedSeq: p.committedSeq,
      lastCommitMs: p.lastCommitMs,
      syncs: p.syncs,
      damagedStoresMovedAside: p.damagedMovedAside,
      writeError: this.writerAlive ? p.writeError : this.writerFailure,
      skippedSeqs: this.skippedSeqs,
      skippedRanges: this.skippedRanges,
    };
  }
}
