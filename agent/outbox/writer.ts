import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  decodeFrame,
  encodeBlockFrame,
  encodeDataBody,
  encodeSegmentHeader,
  encodeStateFrame,
  frameOf,
  parseSegmentName,
  segmentName,
  SEGMENT_HEADER_BYTES,
  type EncodableRecord,
  type SegmentHeader,
  type StoreState,
} from './format.js';
import { errorCode, Io } from './io.js';
import type { FromWriter, LogLevel, SegmentInfo, SegmentUpdate, WriterInit, WriterProgress } from './messages.js';
import { RangeSet, type Range } from './range-set.js';
import { applyCorrection, readKernelBootId, readRuns, RUNS_FILE, writeRuns, type Runs } from './runs.js';
import { scanSegment, SPARSE_EVERY_BYTES } from './scan.js';
import { readSeqMark, SeqMark, SEQ_MARK_FILE, SEQ_RESERVE } from './seq-mark.js';
import { readSkipped, SKIPPED_FILE, SKIPPED_KEPT, writeSkipped, type SeqRange } from './skipped.js';
import type { OutboxEventType, OutboxStream } from './types.js';

/** Damaged copies kept aside at most (oldest go first), so repeated damage cannot fill the card. */
export const DAMAGED_KEPT = 3;
export const DAMAGED_DIR = 'damaged';
/** Acked ranges above the cursor persisted at most; beyond, the rest is resent after a restart. */
const MAX_PERSISTED_RANGES = 1000;
/** Telemetry waiting for the group commit is written (not synced) once this much has gathered. */
const BLOCK_MAX_BYTES = 256 * 1024;
const BLOCK_MAX_RECORDS = 4096;
/**
 * The tail is extended with zeros ahead of the writes, this much at a time: a commit then only overwrites
 * data blocks, and fdatasync has no file size to journal. Measured on ext4 (4 KiB blocks): 20 KB written
 * per commit to the device when the file grows with each commit, 5 KB when it is preallocated.
 */
const PREALLOCATE_BYTES = 1024 * 1024;
/** The store clock is persisted at least this often while an age bound is set. */
const STORE_CLOCK_PERSIST_MS = 60_000;

interface Segment {
  name: string;
  generation: number;
  header: SegmentHeader;
  size: number;
  telemetry: RangeSet;
  events: RangeSet;
  lastSeq: number | null;
  sparseSeqs: number[];
  sparseOffsets: number[];
  lastIndexedOffset: number;
  /** Bytes the file takes (the tail runs ahead of `size` with zeros); equal to size for all others. */
  allocated: number;
}

interface Queued {
  seq: number;
  stream: OutboxStream;
  /** The data body (frame header added at write time; telemetry goes into a block). */
  body: Buffer;
}

/** A frame about to be written, and what it holds. */
interface Pending {
  frame: Buffer;
  firstSeq: number;
  lastSeq: number;
  stream: OutboxStream;
  seqs: number[];
}

function infoOf(segment: Segment): SegmentInfo {
  return {
    name: segment.name,
    baseSeq: segment.header.baseSeq,
    runId: segment.header.runId,
    size: segment.size,
    lastSeq: segment.lastSeq,
    sparseSeqs: [...segment.sparseSeqs],
    sparseOffsets: [...segment.sparseOffsets],
  };
}

function isZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

function hasData(segment: Segment): boolean {
  return segment.lastSeq !== null;
}

/**
 * The writer: owns every file of the store and runs on its own thread with synchronous calls (nothing else
 * waits on it). Appends arrive as batches and are written at once (a kill -9 loses nothing written); events
 * are synced at once, telemetry and acks at the group-commit tick. It decides drops (bytes, age, memory while
 * the disk refuses writes) and deletes segments once everything in them is acked.
 */
export class Writer {
  private readonly io: Io;
  private readonly segments: Segment[] = [];
  private tailFd: number | null = null;
  private queue: Queued[] = [];
  private queueBytes = 0;
  private readonly acked = new RangeSet();
  private cursor = 0;
  private oldestUnacked: number | null = null;
  private readonly dropped = { telemetry: 0, event: 0 };
  private lastReceived = 0;
  private writtenThrough = 0;
  private committedSeq = 0;
  private lastCommitMs: number | null = null;
  private dirty = false;
  private stateDirty = false;
  private runsDirty = false;
  private diskFull = false;
  private writeError: string | null = null;
  private damagedMovedAside = 0;
  private seqMark: SeqMark | null = null;
  private runs: Runs = {};
  private readonly runId = randomBytes(16).toString('hex');
  private readonly kernelBootId = readKernelBootId();
  private storeClockBase = 0;
  private readonly openMono = performance.now();
  private lastStateClock = 0;
  private updates: SegmentUpdate[] = [];
  private closed = false;

  constructor(
    private readonly init: WriterInit,
    private readonly post: (message: FromWriter) => void,
  ) {
    this.io = new Io(init.control);
  }

  // ————— open and recovery —————

  open(): FromWriter & { t: 'ready' } {
    const { dir } = this.init;
    mkdirSync(dir, { recursive: true });
    const entries = readdirSync(dir);
    for (const name of entries) if (name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
    const fresh = !entries.some((name) => name === SEQ_MARK_FILE || name === RUNS_FILE || parseSegmentName(name) !== null);

    const latestState = this.recoverSegments(entries);
    if (latestState) {
      this.cursor = latestState.ackedThrough;
      for (const [from, to] of latestState.ranges) this.acked.addRange(from, to);
      this.acked.removeThrough(this.cursor);
      this.dropped.telemetry = latestState.dropped.telemetry;
      this.dropped.event = latestState.dropped.event;
    }
    this.storeClockBase = Math.max(latestState?.storeClockMs ?? 0, ...this.segments.map((s) => s.header.storeClockMs));
    const maxLogSeq = Math.max(0, ...this.segments.map((s) => s.lastSeq ?? s.header.baseSeq - 1));

    // The seq mark: never hand out a seq at or below anything the previous processes may have handed out.
    const markPath = join(dir, SEQ_MARK_FILE);
    const mark = readSeqMark(markPath);
    let hwm = 0;
    let reliable = fresh;
    let clean = false;
    if (mark.status === 'ok') {
      hwm = mark.hwm;
      reliable = true;
      clean = mark.clean;
    } else if (mark.status === 'damaged') {
      this.moveAside([SEQ_MARK_FILE], `seq mark unreadable (${mark.reason}); seq continues ${SEQ_RESERVE} above the highest seq found`);
    } else if (!fresh) {
      this.report('store-damaged', `seq mark missing from a used store; seq continues ${SEQ_RESERVE} above the highest seq found`);
    }
    const known = Math.max(maxLogSeq, this.cursor);
    const nextSeq = Math.max(hwm, known) + 1 + (reliable ? 0 : SEQ_RESERVE);
    let skippedSeqs: { from: number; to: number } | null = null;
    if (nextSeq - 1 > known && !(reliable && clean)) skippedSeqs = { from: known + 1, to: nextSeq - 1 };
    const listed = this.readSkippedList();
    const skippedRanges = skippedSeqs ? [...listed, skippedSeqs].slice(-SKIPPED_KEPT) : listed;
    this.seqMark = mark.status === 'ok' ? SeqMark.open(this.io, markPath, mark) : SeqMark.create(this.io, markPath, nextSeq - 1);
    this.seqMark.write(nextSeq - 1 + SEQ_RESERVE, false);
    this.lastReceived = nextSeq - 1;
    this.writtenThrough = nextSeq - 1;
    this.committedSeq = nextSeq - 1;

    this.recoverRuns();
    this.appendSegment(this.createSegment(nextSeq));
    this.updates = [];
    // After the tail segment: on a nearly full card the list must not take the room the log needs.
    if (skippedSeqs) this.writeSkippedList(skippedRanges);

    this.updateCursor();
    this.deleteSettled();
    this.enforceBounds();
    this.updates = [];
    return {
      t: 'ready',
      nextSeq,
      runId: this.runId,
      segments: this.segments.map(infoOf),
      ackedThrough: this.cursor,
      ackedRanges: this.acked.toArray(),
      runs: structuredClone(this.runs),
      skippedSeqs,
      skippedRanges,
      progress: this.progress(),
    };
  }

  /** Scans every segment; truncates a torn tail, moves damaged segments aside (keeping their valid prefix). */
  private recoverSegments(entries: string[]): StoreState | null {
    const { dir } = this.init;
    const byBase = new Map<number, { name: string; generation: number }[]>();
    for (const name of entries) {
      const parsed = parseSegmentName(name);
      if (!parsed) continue;
      const list = byBase.get(parsed.baseSeq) ?? [];
      list.push({ name, generation: parsed.generation });
      byBase.set(parsed.baseSeq, list);
    }
    const bases = [...byBase.keys()].sort((a, b) => a - b);
    let previous = 0;
    let latestState: StoreState | null = null;
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const versions = byBase.get(base)!.sort((a, b) => b.generation - a.generation);
      // A compaction renames its result in before removing the original: the highest generation is complete.
      for (const older of versions.slice(1)) rmSync(join(dir, older.name), { force: true });
      const { name, generation } = versions[0]!;
      const path = join(dir, name);
      const isLast = i === bases.length - 1;
      let buf: Buffer;
      try {
        buf = readFileSync(path);
      } catch (error) {
        this.moveAside([name], `segment ${name} unreadable: ${(error as Error).message}`);
        continue;
      }
      const scan = scanSegment(buf, previous);
      const before = this.segments[this.segments.length - 1];
      if (scan.stop && before?.header.compacted && /out of order/.test(scan.stop.reason)) {
        const alone = scanSegment(buf, 0);
        if (alone.lastSeq !== null && alone.lastSeq <= previous) {
          // Left over from a compaction that merged its events into the segment before it.
          rmSync(path, { force: true });
          this.log('info', 'removed a segment already merged into the one before it', { segment: name });
          continue;
        }
      }
      if (!scan.header || scan.header.baseSeq !== base) {
        if (isLast && buf.length <= SEGMENT_HEADER_BYTES) {
          // Cut short while being created (the header is written and synced before anything else).
          rmSync(path, { force: true });
          this.log('warn', 'removed a segment whose creation was cut short', { segment: name, bytes: buf.length });
        } else {
          this.moveAside([name], `segment ${name}: ${scan.header ? 'base seq does not match its name' : (scan.stop?.reason ?? 'bad header')}`);
        }
        continue;
      }
      const zeroTail = scan.stop !== null && isZero(buf, scan.validEnd);
      if (zeroTail) {
        // The unused, preallocated end of a tail: give the space back.
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, scan.validEnd);
          this.io.datasync(fd);
        } finally {
          closeSync(fd);
        }
      } else if (scan.stop) {
        const lost = buf.length - scan.validEnd;
        if (isLast || scan.stop.kind === 'incomplete') {
          // A torn tail: what a power cut leaves after the last sync. Cut it off so appends start on a frame boundary.
          const fd = openSync(path, 'r+');
          try {
            ftruncateSync(fd, scan.validEnd);
            this.io.datasync(fd);
          } finally {
            closeSync(fd);
          }
          this.log('warn', 'torn tail truncated', { segment: name, offset: scan.validEnd, bytes: lost, reason: scan.stop.reason });
        } else {
          // Damage inside a segment that was complete: keep the damaged file aside, go on with its valid prefix.
          const salvaged = scan.lastSeq !== null;
          this.moveAside(
            [name],
            `segment ${name}: ${scan.stop.reason} at offset ${scan.stop.offset}; ${lost} bytes after it unreadable` +
              (salvaged ? `; records through seq ${scan.lastSeq} kept` : ''),
          );
          if (!salvaged) continue;
          this.io.writeAtomic(path, buf.subarray(0, scan.validEnd));
        }
      } else if (isLast) {
        // A kill -9 leaves written frames in the page cache: sync them so they count as committed.
        const fd = openSync(path, 'r+');
        try {
          this.io.datasync(fd);
        } finally {
          closeSync(fd);
        }
      }
      this.segments.push({
        name,
        generation,
        header: scan.header,
        size: scan.validEnd,
        telemetry: scan.telemetry,
        events: scan.events,
        lastSeq: scan.lastSeq,
        sparseSeqs: scan.sparseSeqs,
        sparseOffsets: scan.sparseOffsets,
        lastIndexedOffset: scan.sparseOffsets[scan.sparseOffsets.length - 1] ?? -Infinity,
        allocated: scan.validEnd,
      });
      if (scan.lastSeq !== null) previous = scan.lastSeq;
      if (scan.lastState) latestState = scan.lastState;
    }
    return latestState;
  }

  private recoverRuns(): void {
    const path = join(this.init.dir, RUNS_FILE);
    const read = readRuns(path);
    if (read.status === 'damaged') this.moveAside([RUNS_FILE], `run registry unreadable (${read.reason}); clock corrections of earlier runs are lost`);
    const previous = read.status === 'ok' ? read.runs : {};
    const referenced = new Set(this.segments.map((s) => s.header.runId));
    for (const [id, run] of Object.entries(previous)) if (referenced.has(id)) this.runs[id] = run;
    this.runs[this.runId] = { kernelBootId: this.kernelBootId, startedWallMs: Date.now(), corrections: [] };
    this.saveRuns();
  }

  private saveRuns(): void {
    try {
      writeRuns(this.io, join(this.init.dir, RUNS_FILE), this.runs);
      this.runsDirty = false;
    } catch (error) {
      this.runsDirty = true;
      this.handleWriteError(error);
    }
  }

  /** Moves damaged files into damaged/<time>-<n>/ (kept for inspection) and reports it. */
  private moveAside(names: string[], detail: string): void {
    const base = join(this.init.dir, DAMAGED_DIR);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let target = '';
    for (let n = 0; ; n++) {
      target = join(base, `${stamp}-${this.runId.slice(0, 8)}-${n}`);
      try {
        statSync(target);
      } catch {
        break;
      }
    }
    try {
      mkdirSync(target, { recursive: true });
      for (const name of names) renameSync(join(this.init.dir, name), join(target, name));
      this.io.syncDir(this.init.dir);
    } catch (error) {
      // Cannot keep it: get it out of the way rather than stop.
      for (const name of names) rmSync(join(this.init.dir, name), { force: true });
      this.log('error', 'could not move a damaged file aside; removed it', { error: (error as Error).message });
    }
    this.damagedMovedAside++;
    this.report('store-damaged', `${detail}; moved to ${target}`);
    this.pruneDamaged(base);
  }

  private pruneDamaged(base: string): void {
    try {
      const kept = readdirSync(base).sort();
      for (const old of kept.slice(0, Math.max(0, kept.length - DAMAGED_KEPT))) rmSync(join(base, old), { recursive: true, force: true });
    } catch {
      // Nothing to prune.
    }
  }

  // ————— segments —————

  private get tail(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private storeNow(): number {
    return this.storeClockBase + (performance.now() - this.openMono);
  }

  private state(): StoreState {
    return {
      ackedThrough: this.cursor,
      ranges: this.acked.toArray().slice(0, MAX_PERSISTED_RANGES),
      dropped: { ...this.dropped },
      storeClockMs: Math.round(this.storeNow()),
    };
  }

  /** Creates and syncs a new segment (header + current state) and returns it with its descriptor open. */
  private createSegment(baseSeq: number): Segment & { fd: number } {
    const header: SegmentHeader = {
      baseSeq,
      storeClockMs: Math.round(this.storeNow()),
      runId: this.runId,
      kernelBootId: this.kernelBootId,
      createdWallMs: Date.now(),
      compacted: false,
    };
    const name = segmentName(baseSeq);
    const path = join(this.init.dir, name);
    const bytes = Buffer.concat([encodeSegmentHeader(header), encodeStateFrame(this.state())]);
    let allocated = Math.max(bytes.length, Math.min(PREALLOCATE_BYTES, this.init.segmentBytes));
    // Written aside and renamed in: an empty segment left by the previous run may have the same base.
    this.io.writeAtomic(path, bytes);
    const fd = openSync(path, 'r+');
    try {
      this.io.writeZeros(fd, bytes.length, allocated);
      this.io.datasync(fd);
    } catch {
      // No room for the zeros: appends grow the file instead.
      ftruncateSync(fd, bytes.length);
      allocated = bytes.length;
    }
    this.lastStateClock = header.storeClockMs;
    return {
      fd,
      name,
      generation: 0,
      header,
      size: bytes.length,
      allocated,
      telemetry: new RangeSet(),
      events: new RangeSet(),
      lastSeq: null,
      sparseSeqs: [],
      sparseOffsets: [],
      lastIndexedOffset: -Infinity,
    };
  }

  private appendSegment(segment: Segment & { fd: number }): void {
    if (this.tailFd !== null) closeSync(this.tailFd);
    this.tailFd = segment.fd;
    const { fd: _fd, ...rest } = segment;
    // An empty segment of the previous run with the same base was just replaced by this one.
    const replaced = this.segments.findIndex((s) => s.name === rest.name);
    if (replaced >= 0) this.segments.splice(replaced, 1);
    this.segments.push(rest);
    this.updates.push({ op: 'add', segment: infoOf(rest) });
  }

  /** Starts a new tail segment. False when the tail is empty or a new file cannot be made. */
  private roll(): boolean {
    if (!hasData(this.tail)) return false;
    this.commit();
    try {
      const next = this.createSegment(this.queue[0]?.seq ?? this.lastReceived + 1);
      this.trimTail();
      this.appendSegment(next);
      return true;
    } catch (error) {
      this.handleWriteError(error);
      return false;
    }
  }

  /** Cuts the tail's preallocated zeros off (before it stops being the tail, and at close). */
  private trimTail(): void {
    const tail = this.tail;
    if (this.tailFd === null || tail.allocated <= tail.size) return;
    try {
      ftruncateSync(this.tailFd, tail.size);
      this.io.datasync(this.tailFd);
      tail.allocated = tail.size;
    } catch (error) {
      // Left as it is, the zeros are read as the clean end of the segment at the next open.
      this.handleWriteError(error);
    }
  }

  /** Extends the tail with zeros so the next write lands inside the file (see PREALLOCATE_BYTES). */
  private preallocate(end: number): void {
    const tail = this.tail;
    // Frames can lie past the zeros: a state record is written without preallocating, and writes go on growing the
    // file after zeros found no room. The zeros must start after them, or they would wipe committed frames.
    if (tail.allocated < tail.size) tail.allocated = tail.size;
    if (this.tailFd === null || end <= tail.allocated) return;
    const target = Math.max(end, Math.min(tail.allocated + PREALLOCATE_BYTES, this.init.segmentBytes));
    try {
      this.io.writeZeros(this.tailFd, tail.allocated, target);
      tail.allocated = target;
    } catch {
      // No room for the zeros: the write itself may still fit, growing the file as it goes.
    }
  }

  private removeSegment(segment: Segment): void {
    rmSync(join(this.init.dir, segment.name), { force: true });
    const i = this.segments.indexOf(segment);
    if (i >= 0) this.segments.splice(i, 1);
    this.updates.push({ op: 'remove', name: segment.name });
  }

  private totalBytes(): number {
    let n = 0;
    // A file occupies whole 4 KiB blocks.
    for (const s of this.segments) n += Math.ceil(Math.max(s.size, s.allocated) / 4096) * 4096;
    return n;
  }

  // ————— appends, writes, commits —————

  /**
   * Takes a batch from the main thread. Events are written and synced at once (with the telemetry queued
   * before them, to keep seq order in the file); telemetry waits for the group-commit tick and goes to disk
   * as one compressed block per commit.
   */
  append(records: readonly EncodableRecord[]): void {
    let urgent = false;
    for (const record of records) {
      const body = encodeDataBody(record);
      this.queue.push({ seq: record.seq, stream: record.stream, body });
      this.queueBytes += body.length + 4;
      this.lastReceived = record.seq;
      if (record.stream === 'event') urgent = true;
    }
    this.extendSeqMark();
    if (urgent) {
      this.writeQueue();
      if (this.stateDirty) this.writeState();
      this.commit();
    } else if (this.queueBytes >= BLOCK_MAX_BYTES) {
      this.writeQueue();
    } else if (this.diskFull || this.writeError !== null) {
      this.enforceMemory();
    }
    if (this.totalBytes() > this.init.maxBytes) this.enforceBounds();
  }

  /** Keeps the seq mark ahead of the seqs handed out. It is a 512-byte in-place write: it works on a full disk. */
  private extendSeqMark(): void {
    const mark = this.seqMark;
    if (!mark || this.lastReceived <= mark.hwm - SEQ_RESERVE / 2) return;
    try {
      mark.write(this.lastReceived + SEQ_RESERVE, false);
    } catch (error) {
      this.handleWriteError(error);
    }
  }

  /** Frames for the queue: each event alone, each run of telemetry between them one block. */
  private framesOfQueue(): Pending[] {
    const out: Pending[] = [];
    let run: Queued[] = [];
    let runBytes = 0;
    const flushRun = (): void => {
      if (run.length === 0) return;
      out.push({
        frame: encodeBlockFrame(run),
        firstSeq: run[0]!.seq,
        lastSeq: run[run.length - 1]!.seq,
        stream: 'telemetry',
        seqs: run.map((q) => q.seq),
      });
      run = [];
      runBytes = 0;
    };
    for (const q of this.queue) {
      if (q.stream === 'event') {
        flushRun();
        out.push({ frame: frameOf(q.body), firstSeq: q.seq, lastSeq: q.seq, stream: 'event', seqs: [q.seq] });
        continue;
      }
      run.push(q);
      runBytes += q.body.length + 4;
      if (run.length >= BLOCK_MAX_RECORDS || runBytes >= BLOCK_MAX_BYTES) flushRun();
    }
    flushRun();
    return out;
  }

  /** Writes every queued record to the tail (not synced). False when the disk refused. */
  private writeQueue(): boolean {
    if (this.queue.length === 0 || this.tailFd === null) return true;
    const pending = this.framesOfQueue();
    let bytes = 0;
    for (const p of pending) bytes += p.frame.length;
    if (this.tail.size + bytes > this.init.segmentBytes) this.roll();
    this.preallocate(this.tail.size + bytes);
    const tail = this.tail;
    const fd = this.tailFd;
    const buf = pending.length === 1 ? pending[0]!.frame : Buffer.concat(pending.map((p) => p.frame), bytes);
    try {
      this.io.write(fd, buf, tail.size);
    } catch (error) {
      try {
        // Whatever part got written goes; the preallocated zeros after it go too (a reopen reads zeros as the end).
        ftruncateSync(fd, tail.size);
        tail.allocated = tail.size;
      } catch {
        // Positional writes start at tail.size anyway; a reopen truncates whatever is left after it.
      }
      this.handleWriteError(error);
      this.enforceMemory();
      return false;
    }
    const sparseSeqs: number[] = [];
    const sparseOffsets: number[] = [];
    let at = tail.size;
    for (const p of pending) {
      const set = p.stream === 'event' ? tail.events : tail.telemetry;
      if (p.seqs.length === p.lastSeq - p.firstSeq + 1) set.addRange(p.firstSeq, p.lastSeq);
      else set.addAll(p.seqs);
      if (at - tail.lastIndexedOffset >= SPARSE_EVERY_BYTES) {
        tail.sparseSeqs.push(p.firstSeq);
        tail.sparseOffsets.push(at);
        sparseSeqs.push(p.firstSeq);
        sparseOffsets.push(at);
        tail.lastIndexedOffset = at;
      }
      at += p.frame.length;
    }
    const last = pending[pending.length - 1]!.lastSeq;
    tail.size = at;
    tail.lastSeq = last;
    this.writtenThrough = last;
    this.queue = [];
    this.queueBytes = 0;
    this.dirty = true;
    this.updates.push({ op: 'grow', name: tail.name, size: tail.size, lastSeq: tail.lastSeq, sparseSeqs, sparseOffsets });
    this.writesWork();
    return true;
  }

  private writeState(): void {
    if (this.tailFd === null || this.queue.length > 0) return;
    const tail = this.tail;
    const frame = encodeStateFrame(this.state());
    try {
      this.io.write(this.tailFd, frame, tail.size);
    } catch (error) {
      try {
        // As in writeQueue: a partial frame must not stay after the last valid one, where a shorter later write
        // could leave its remains in the middle of the segment.
        ftruncateSync(this.tailFd, tail.size);
        tail.allocated = tail.size;
      } catch {
        // a reopen truncates whatever is left after the last valid frame of the tail
      }
      this.handleWriteError(error);
      return;
    }
    tail.size += frame.length;
    this.dirty = true;
    this.stateDirty = false;
    this.lastStateClock = this.storeNow();
    this.updates.push({ op: 'grow', name: tail.name, size: tail.size, lastSeq: tail.lastSeq, sparseSeqs: [], sparseOffsets: [] });
    this.writesWork();
  }

  private commit(): void {
    if (!this.dirty || this.tailFd === null) return;
    try {
      this.io.datasync(this.tailFd);
    } catch (error) {
      // Linux may drop the failed pages from the cache: they are not committed; say so loudly.
      this.handleWriteError(error);
      return;
    }
    this.dirty = false;
    this.committedSeq = this.writtenThrough;
    this.lastCommitMs = Date.now();
  }

  private writesWork(): void {
    if (this.diskFull) {
      this.diskFull = false;
      this.report('disk-ok', 'the store is writable again');
    }
    if (this.writeError !== null) {
      this.log('info', 'store writes work again', { previousError: this.writeError });
      this.writeError = null;
    }
  }

  private handleWriteError(error: unknown): void {
    const code = errorCode(error);
    const message = (error as Error).message ?? String(error);
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      if (!this.diskFull) {
        this.diskFull = true;
        this.report('disk-full', `${message}; records are kept in memory up to ${this.init.memoryBytes} bytes`);
      }
      return;
    }
    if (this.writeError !== message) {
      this.writeError = message;
      this.report('writer-failed', message);
    }
  }

  /** While the disk refuses writes, the queue is the only copy: bounded, oldest telemetry dropped first. */
  private enforceMemory(): void {
    if (this.queueBytes <= this.init.memoryBytes) return;
    const droppedSeqs = { telemetry: [] as number[], event: [] as number[] };
    let excess = this.queueBytes - this.init.memoryBytes;
    const keep = new Set<Queued>(this.queue);
    for (const stream of ['telemetry', 'event'] as const) {
      for (const q of this.queue) {
        if (excess <= 0) break;
        if (q.stream !== stream) continue;
        keep.delete(q);
        excess -= q.body.length + 4;
        this.queueBytes -= q.body.length + 4;
        droppedSeqs[stream].push(q.seq);
      }
    }
    this.queue = this.queue.filter((q) => keep.has(q));
    this.countDropped(droppedSeqs.telemetry, 'telemetry', 'memory bound reached while the disk refuses writes');
    this.countDropped(droppedSeqs.event, 'event', 'memory bound reached while the disk refuses writes');
  }

  private countDropped(seqs: number[] | RangeSet, stream: OutboxStream, reason: string, count?: number): void {
    const set = Array.isArray(seqs) ? new RangeSet() : seqs;
    if (Array.isArray(seqs)) set.addAll(seqs);
    const n = count ?? set.size();
    if (set.isEmpty()) return;
    this.dropped[stream] += n;
    this.stateDirty = true;
    this.post({ t: 'dropped', ranges: set.toArray(), stream, count: n, reason });
    if (n > 0) this.report('dropped', `${n} ${stream} record(s) dropped: ${reason}`);
  }

  // ————— acks, deletion, bounds —————

  ack(ranges: readonly Range[]): void {
    for (const [from, to] of ranges) {
      const lo = Math.max(from, this.cursor + 1);
      const hi = Math.min(to, this.lastReceived);
      if (lo <= hi) this.acked.addRange(lo, hi);
    }
    this.updateCursor();
    this.deleteSettled();
    this.stateDirty = true;
  }

  /** Members of `set` that are neither ≤ cursor nor acked. */
  private unackedIn(set: RangeSet): number {
    return set.size() - set.countThrough(this.cursor) - set.intersectionSize(this.acked);
  }

  private unackedSet(set: RangeSet): RangeSet {
    const out = new RangeSet();
    for (const [from, to] of set.toArray()) out.addRange(Math.max(from, this.cursor + 1), to);
    for (const [from, to] of this.acked.toArray()) out.removeRange(from, to);
    return out;
  }

  private updateCursor(): void {
    let lowest: number | null = null;
    for (const s of this.segments) {
      if (s.lastSeq === null || s.lastSeq <= this.cursor) continue;
      const t = s.telemetry.firstNotIn(this.acked, this.cursor);
      const e = s.events.firstNotIn(this.acked, this.cursor);
      if (t !== null || e !== null) {
        lowest = Math.min(t ?? Infinity, e ?? Infinity);
        break;
      }
    }
    if (lowest === null) {
      for (const q of this.queue) {
        if (q.seq > this.cursor && !this.acked.has(q.seq)) {
          lowest = q.seq;
          break;
        }
      }
    }
    this.oldestUnacked = lowest;
    const next = lowest === null ? this.lastReceived : lowest - 1;
    if (next > this.cursor) {
      this.cursor = next;
      this.acked.removeThrough(next);
    }
  }

  /** Deletes segments (never the tail) whose records are all acked: whole files, nothing rewritten. */
  private deleteSettled(): void {
    for (const s of this.segments.slice(0, -1)) {
      const settled = s.lastSeq === null || s.lastSeq <= this.cursor || (this.unackedIn(s.telemetry) === 0 && this.unackedIn(s.events) === 0);
      if (settled) this.removeSegment(s);
    }
  }

  /**
   * Over the byte bound: the oldest segment holding telemetry loses its telemetry (rewritten with its events
   * only); events go only when no telemetry is left anywhere, oldest segment first. The age bound drops
   * telemetry only, measured on the store clock.
   */
  private enforceBounds(): void {
    for (let guard = 0; guard < 10_000 && this.totalBytes() > this.init.maxBytes; guard++) {
      const nonTail = this.segments.slice(0, -1);
      const withTelemetry = nonTail.find((s) => !s.telemetry.isEmpty());
      if (withTelemetry) {
        if (!this.compact(withTelemetry, `over the byte bound (${this.init.maxBytes} bytes)`)) break;
        continue;
      }
      if (!this.tail.telemetry.isEmpty()) {
        if (!this.roll()) break;
        continue;
      }
      // Telemetry still waiting for its group commit counts too: write it, then it goes before any event.
      if (this.queue.some((q) => q.stream === 'telemetry')) {
        if (!this.writeQueue()) break;
        continue;
      }
      const oldest = nonTail[0];
      if (oldest) {
        this.dropWhole(oldest, `over the byte bound (${this.init.maxBytes} bytes) and no telemetry left`);
        continue;
      }
      if (!this.roll()) break;
    }
    const maxAge = this.init.maxAgeMs;
    if (maxAge === null) return;
    const now = this.storeNow();
    for (let i = 0; i < this.segments.length - 1; i++) {
      const segment = this.segments[i]!;
      const newest = this.segments[i + 1]!.header.storeClockMs;
      if (now - newest > maxAge && !segment.telemetry.isEmpty()) {
        if (this.compact(segment, `older than ${maxAge} ms of store running time`)) i = -1;
        else break;
      }
    }
    if (now - this.tail.header.storeClockMs > maxAge / 2 && !this.tail.telemetry.isEmpty()) this.roll();
  }

  private dropWhole(segment: Segment, reason: string): void {
    const telemetry = this.unackedSet(segment.telemetry);
    const events = this.unackedSet(segment.events);
    this.removeSegment(segment);
    this.countDropped(telemetry, 'telemetry', reason);
    this.countDropped(events, 'event', reason);
    this.updateCursor();
  }

  /**
   * Rewrites a segment without its telemetry (new generation, renamed in atomically). Its events join the
   * previous segment when that one is already events-only and has room, so compaction never leaves a trail of
   * near-empty files.
   */
  private compact(segment: Segment, reason: string): boolean {
    const droppedTelemetry = this.unackedSet(segment.telemetry);
    const kept = this.unackedEventFrames(segment);
    if (kept === null) return false;
    const keptBytes = kept.reduce((n, f) => n + f.length, 0);
    const i = this.segments.indexOf(segment);
    const previous = i > 0 ? this.segments[i - 1] : undefined;
    const mergeInto =
      previous && previous.header.compacted && previous.telemetry.isEmpty() && previous.size + keptBytes <= this.init.segmentBytes ? previous : undefined;
    if (kept.length === 0) {
      this.removeSegment(segment);
    } else if (mergeInto) {
      const earlier = this.unackedEventFrames(mergeInto);
      if (earlier === null || !this.rewrite(mergeInto, [...earlier, ...kept])) return false;
      // A crash right here leaves both: the next open removes this one as a duplicate of the merged copy.
      this.removeSegment(segment);
    } else if (!this.rewrite(segment, kept)) {
      return false;
    }
    this.countDropped(droppedTelemetry, 'telemetry', reason);
    this.updateCursor();
    return true;
  }

  /** The frames of a segment's events not yet acked, or null when it cannot be read. */
  private unackedEventFrames(segment: Segment): Buffer[] | null {
    let buf: Buffer;
    try {
      buf = readFileSync(join(this.init.dir, segment.name));
    } catch (error) {
      this.handleWriteError(error);
      return null;
    }
    const kept: Buffer[] = [];
    for (let at = SEGMENT_HEADER_BYTES; at < segment.size; ) {
      const frame = decodeFrame(buf, at, segment.size);
      if (frame.kind === 'incomplete' || frame.kind === 'invalid') break;
      if (frame.kind === 'data' && frame.stream === 'event' && frame.seq > this.cursor && !this.acked.has(frame.seq)) {
        kept.push(buf.subarray(at, frame.end));
      }
      at = frame.end;
    }
    return kept;
  }

  private rewrite(segment: Segment, frames: readonly Buffer[]): boolean {
    const generation = segment.generation + 1;
    const name = segmentName(segment.header.baseSeq, generation);
    const header = { ...segment.header, compacted: true };
    const buf = Buffer.concat([encodeSegmentHeader(header), ...frames]);
    try {
      this.io.writeAtomic(join(this.init.dir, name), buf);
    } catch (error) {
      this.handleWriteError(error);
      return false;
    }
    rmSync(join(this.init.dir, segment.name), { force: true });
    const scan = scanSegment(buf, 0);
    const oldName = segment.name;
    Object.assign(segment, {
      name,
      generation,
      header,
      size: buf.length,
      allocated: buf.length,
      telemetry: scan.telemetry,
      events: scan.events,
      lastSeq: scan.lastSeq,
      sparseSeqs: scan.sparseSeqs,
      sparseOffsets: scan.sparseOffsets,
      lastIndexedOffset: scan.sparseOffsets[scan.sparseOffsets.length - 1] ?? -Infinity,
    });
    this.updates.push({ op: 'replace', name: oldName, segment: infoOf(segment) });
    return true;
  }

  // ————— clock corrections, flush, tick, close —————

  correct(offsetMs: number, throughSeq: number): void {
    applyCorrection(this.runs, this.runId, { throughSeq, offsetMs });
    this.saveRuns();
    this.post({ t: 'runs', runs: structuredClone(this.runs) });
  }

  flush(): void {
    this.writeQueue();
    if (this.stateDirty) this.writeState();
    this.commit();
  }

  /** The group commit, every flushIntervalMs: telemetry, acks, retries after a refused write, the age bound. */
  tick(): void {
    if (this.closed) return;
    this.writeQueue();
    if (this.runsDirty) this.saveRuns();
    const clockStale = this.init.maxAgeMs !== null && this.storeNow() - this.lastStateClock > STORE_CLOCK_PERSIST_MS;
    if (this.stateDirty || clockStale) this.writeState();
    this.commit();
    if (this.init.maxAgeMs !== null || this.totalBytes() > this.init.maxBytes) this.enforceBounds();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    const complete = this.queue.length === 0 && !this.dirty;
    if (!complete) this.log('error', 'closing with records the disk did not take', { records: this.queue.length });
    try {
      // Exact and clean: the next start continues at lastReceived + 1 without a gap.
      this.seqMark?.write(this.lastReceived, complete);
    } catch (error) {
      this.handleWriteError(error);
    }
    this.seqMark?.close();
    if (this.segments.length > 0) this.trimTail();
    if (this.tailFd !== null) closeSync(this.tailFd);
    this.tailFd = null;
    this.closed = true;
  }

  // ————— reporting —————

  takeUpdates(): SegmentUpdate[] {
    const updates = this.updates;
    this.updates = [];
    return updates;
  }

  progress(): WriterProgress {
    this.updateCursor();
    let records = 0;
    for (const s of this.segments) records += this.unackedIn(s.telemetry) + this.unackedIn(s.events);
    for (const q of this.queue) if (q.seq > this.cursor && !this.acked.has(q.seq)) records++;
    return {
      lastReceived: this.lastReceived,
      writtenThrough: this.writtenThrough,
      committedSeq: this.committedSeq,
      lastCommitMs: this.lastCommitMs,
      records,
      bytes: this.totalBytes() + this.queueBytes,
      oldestSeq: this.oldestUnacked,
      ackedThrough: this.cursor,
      dropped: { ...this.dropped },
      diskFull: this.diskFull,
      writeError: this.writeError,
      damagedMovedAside: this.damagedMovedAside,
      syncs: this.io.syncs,
    };
  }

  private readSkippedList(): SeqRange[] {
    const listed = readSkipped(join(this.init.dir, SKIPPED_FILE));
    if (listed.problem) this.log('warn', 'outbox: list of skipped seq ranges unreadable; starting a new one', { problem: listed.problem });
    return listed.ranges;
  }

  /** Best effort: a list that cannot be written is still reported in this run's births. */
  private writeSkippedList(ranges: readonly SeqRange[]): void {
    try {
      writeSkipped(this.io, join(this.init.dir, SKIPPED_FILE), ranges);
    } catch (error) {
      this.log('warn', 'outbox: could not record the skipped seq range', { error: (error as Error).message, code: (error as NodeJS.ErrnoException).code });
    }
  }

  private report(type: OutboxEventType, detail: string): void {
    this.post({ t: 'event', type, detail });
  }

  private log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    this.post({ t: 'log', level, msg, ...(fields ? { fields } : {}) });
  }
}
