import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Quality, QualityReason, Reading } from '../../drivers/reading.js';

/** One stored reading of one channel. */
export interface HistoryPoint {
  /** Wall time of the reading, ms since the epoch (its source timestamp). */
  wallTs: number;
  value: number | null;
  quality: Quality;
  reason?: QualityReason;
  /** False when the gateway's clock was not yet synchronised as the reading was taken. */
  clockSynced: boolean;
}

export interface HistoryStoreOptions {
  dir: string;
  /** Bytes on disk at most; the oldest segment goes first. */
  maxBytes: number;
  /** Segments whose newest reading is older than this go (judged only while the clock is synchronised). */
  maxAgeMs: number;
  /** Appended readings reach the disk this often. */
  flushIntervalMs?: number;
  /** Readings waiting for the disk, at most; beyond it the oldest waiting ones are dropped (counted). */
  maxPending?: number;
  /** Whether the wall clock can be trusted now (age pruning waits for it). */
  clockSynced?: () => boolean;
  onError?: (error: unknown) => void;
}

export interface HistoryStats {
  segments: number;
  bytes: number;
  /** Readings not yet on disk. */
  pending: number;
  /** Readings dropped because the disk did not take them in time. */
  dropped: number;
  oldestWallTs: number | null;
}

/** A reading's place in the history: a page resumes after it. */
export interface HistoryCursor {
  wallTs: number;
  /** Segment file number. */
  segment: number;
  /** Line within the segment, from 0. */
  line: number;
}

export interface HistoryPageRequest {
  from: number;
  to: number;
  /** At most this many readings (above 0; Infinity for all). */
  limit: number;
  /** Newest first instead of oldest first. */
  newestFirst?: boolean;
  /** Resume after this reading: the `next` of the previous page of the same request. */
  after?: HistoryCursor;
}

/** What a page cost: shown by tests and benchmarks. */
export interface HistoryPageFigures {
  /** Segment files read. */
  segmentsRead: number;
  /** Readings of the channel in the range that were looked at. */
  matched: number;
  /** Readings held at once, at most (never above limit + 1). */
  heldAtMost: number;
}

export interface HistoryPage {
  points: HistoryPoint[];
  /** Where the next page starts; absent when the request is complete. */
  next?: HistoryCursor;
  figures: HistoryPageFigures;
}

interface Segment {
  file: string;
  bytes: number;
  minTs: number;
  maxTs: number;
}

const SEGMENT_PREFIX = 'h-';
const SEGMENT_SUFFIX = '.ndjson';

/** One line per reading: [wallTs, channelId, value, quality, reason, clockSynced ? 1 : 0]. */
type Line = [number, string, number | null, Quality, QualityReason | null, 0 | 1];

function encode(reading: Reading): string {
  const line: Line = [
    Math.round(reading.wallTs),
    reading.channelId,
    reading.value,
    reading.quality,
    reading.reason ?? null,
    reading.clockSynced ? 1 : 0,
  ];
  return JSON.stringify(line);
}

const QUALITIES: readonly string[] = ['good', 'uncertain', 'bad'];

function decode(text: string): { channelId: string; point: HistoryPoint } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A line torn by a power cut: skipped, the rest of the segment is still good.
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length < 6) return undefined;
  const [wallTs, channelId, value, quality, reason, synced] = parsed as unknown[];
  if (typeof wallTs !== 'number' || typeof channelId !== 'string' || !QUALITIES.includes(quality as string)) return undefined;
  if (value !== null && typeof value !== 'number') return undefined;
  const point: HistoryPoint = { wallTs, value, quality: quality as Quality, clockSynced: synced === 1 };
  if (typeof reason === 'string') point.reason = reason as QualityReason;
  return { channelId, point };
}

/**
 * A small, bounded local history of readings, so that a SCADA can read back what the gateway saw even though
 * the outbox deletes what the platform has acknowledged. Append-only NDJSON segments under `dir`, written in
 * batches off the hot path (append() only queues text), bounded by bytes and by age. Not a durable log: a
 * power cut loses the last batch (flushIntervalMs), and a torn last line is skipped when read.
 */
export class HistoryStore {
  private readonly segments: Segment[] = [];
  private current: Segment | undefined;
  private pending: string[] = [];
  private pendingMin = Infinity;
  private pendingMax = -Infinity;
  private dropped = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly segmentBytes: number;
  private readonly maxPending: number;

  /** Resolves once the segments already on disk are known; appends are queued meanwhile. */
  readonly ready: Promise<void>;

  constructor(private readonly options: HistoryStoreOptions) {
    // Sixteen segments or more in the byte budget, so that pruning one costs a small share of the history.
    this.segmentBytes = Math.min(8 * 1024 * 1024, Math.max(64 * 1024, Math.floor(options.maxBytes / 16)));
    this.maxPending = options.maxPending ?? 200_000;
    this.ready = mkdir(options.dir, { recursive: true })
      .then(() => this.scan())
      .catch((error: unknown) => options.onError?.(error));
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 5000);
    this.timer.unref();
  }

  /** Synchronous and cheap: the readings are queued as text; the disk sees them on the next flush. */
  append(readings: readonly Reading[]): void {
    if (this.closed) return;
    for (const reading of readings) {
      this.pending.push(encode(reading));
      if (reading.wallTs < this.pendingMin) this.pendingMin = reading.wallTs;
      if (reading.wallTs > this.pendingMax) this.pendingMax = reading.wallTs;
    }
    if (this.pending.length > this.maxPending) {
      const excess = this.pending.length - this.maxPending;
      this.pending.splice(0, excess);
      this.dropped += excess;
    }
  }

  /** Writes what is queued; resolves when it is on disk (or failed, reported through onError). */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.ready).then(() => this.writePending());
    return this.writing;
  }

  /**
   * Readings of one channel with from ≤ wallTs ≤ to, oldest first, at most maxValues (0 = no limit).
   * Reads what was queued too (it flushes first).
   */
  async query(channelId: string, from: number, to: number, maxValues = 0): Promise<HistoryPoint[]> {
    const page = await this.queryPage(channelId, { from, to, limit: maxValues > 0 ? maxValues : Infinity });
    return page.points;
  }

  /**
   * One page of a channel's readings with from ≤ wallTs ≤ to: oldest first, or newest first, at most `limit`,
   * starting after `after` (the `next` of the previous page). Holds at most limit + 1 readings while it reads
   * (the one more says whether another page follows), and reads only the segments that can still hold a
   * reading of the page: oldest segments first going forward, newest first going backward, stopping as soon as
   * no later segment can beat what it holds.
   */
  async queryPage(channelId: string, request: HistoryPageRequest): Promise<HistoryPage> {
    await this.flush();
    const { from, to, after } = request;
    const newestFirst = request.newestFirst === true;
    const limit = request.limit;
    if (!(limit > 0)) throw new RangeError(`history page limit must be above 0, got ${limit}`);
    // Position order: oldest first is (wallTs, segment, line) ascending, a total order that stays valid while
    // segments are appended to and pruned; newest first is its exact reverse.
    const order = newestFirst ? (a: HistoryCursor, b: HistoryCursor) => compareCursors(b, a) : compareCursors;
    const kept = new BoundedBest<Found>(limit + 1, (a, b) => order(a.at, b.at));
    const figures: HistoryPageFigures = { segmentsRead: 0, matched: 0, heldAtMost: 0 };
    const needle = JSON.stringify(channelId);
    const candidates = this.segments
      .filter((s) => s.bytes > 0 && s.maxTs >= from && s.minTs <= to)
      .filter((s) => !after || (newestFirst ? s.minTs <= after.wallTs : s.maxTs >= after.wallTs))
      .sort((a, b) => (newestFirst ? b.maxTs - a.maxTs : a.minTs - b.minTs));
    for (const segment of candidates) {
      const worst = kept.full() ? kept.worst() : undefined;
      // Every reading of this segment (and of the ones after it) comes after what is held: done.
      if (worst && (newestFirst ? segment.maxTs < worst.at.wallTs : segment.minTs > worst.at.wallTs)) break;
      figures.segmentsRead += 1;
      const number = segmentNumber(segment.file);
      let line = -1;
      try {
        const lines = createInterface({ input: createReadStream(join(this.options.dir, segment.file), 'utf8'), crlfDelay: Infinity });
        for await (const text of lines) {
          line += 1;
          if (!text.includes(needle)) continue;
          const decoded = decode(text);
          if (!decoded || decoded.channelId !== channelId) continue;
          const { point } = decoded;
          if (point.wallTs < from || point.wallTs > to) continue;
          const at: HistoryCursor = { wallTs: point.wallTs, segment: number, line };
          if (after && order(at, after) <= 0) continue;
          figures.matched += 1;
          kept.offer({ at, point });
          figures.heldAtMost = Math.max(figures.heldAtMost, kept.size());
        }
      } catch (error) {
        // A segment pruned while being read: what it held is gone anyway.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError?.(error);
      }
    }
    const found = kept.sorted();
    const more = found.length > limit;
    const page = more ? found.slice(0, limit) : found;
    const result: HistoryPage = { points: page.map((f) => f.point), figures };
    if (more) result.next = page[page.length - 1]!.at;
    return result;
  }

  stats(): HistoryStats {
    const bytes = this.segments.reduce((sum, s) => sum + s.bytes, 0);
    const oldest = this.segments.reduce((min, s) => Math.min(min, s.minTs), Infinity);
    return {
      segments: this.segments.length,
      bytes,
      pending: this.pending.length,
      dropped: this.dropped,
      oldestWallTs: Number.isFinite(oldest) ? oldest : null,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
  }

  // ------------------------------------------------------------------------------------------------------------

  private async scan(): Promise<void> {
    const names = (await readdir(this.options.dir)).filter((n) => n.startsWith(SEGMENT_PREFIX) && n.endsWith(SEGMENT_SUFFIX));
    names.sort((a, b) => segmentNumber(a) - segmentNumber(b));
    for (const file of names) {
      const path = join(this.options.dir, file);
      const { size } = await stat(path);
      let minTs = Infinity;
      let maxTs = -Infinity;
      const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
      for await (const text of lines) {
        const decoded = decode(text);
        if (!decoded) continue;
        minTs = Math.min(minTs, decoded.point.wallTs);
        maxTs = Math.max(maxTs, decoded.point.wallTs);
      }
      this.segments.push({ file, bytes: size, minTs, maxTs });
    }
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0 || this.closed) return;
    const lines = this.pending;
    const minTs = this.pendingMin;
    const maxTs = this.pendingMax;
    this.pending = [];
    this.pendingMin = Infinity;
    this.pendingMax = -Infinity;
    const text = lines.join('\n') + '\n';
    const bytes = Buffer.byteLength(text);
    let segment = this.current;
    if (!segment || segment.bytes >= this.segmentBytes) {
      const last = this.segments.at(-1);
      const next = last ? segmentNumber(last.file) + 1 : 1;
      segment = { file: `${SEGMENT_PREFIX}${String(next).padStart(8, '0')}${SEGMENT_SUFFIX}`, bytes: 0, minTs: Infinity, maxTs: -Infinity };
      this.segments.push(segment);
      this.current = segment;
    }
    try {
      await appendFile(join(this.options.dir, segment.file), text);
      segment.bytes += bytes;
      segment.minTs = Math.min(segment.minTs, minTs);
      segment.maxTs = Math.max(segment.maxTs, maxTs);
    } catch (error) {
      this.dropped += lines.length;
      this.options.onError?.(error);
    }
    await this.prune();
  }

  private async prune(): Promise<void> {
    const synced = this.options.clockSynced?.() ?? true;
    const oldestKept = Date.now() - this.options.maxAgeMs;
    let total = this.segments.reduce((sum, s) => sum + s.bytes, 0);
    while (this.segments.length > 1) {
      const first = this.segments[0]!;
      const tooBig = total > this.options.maxBytes;
      const tooOld = synced && first.maxTs < oldestKept;
      if (!tooBig && !tooOld) break;
      this.segments.shift();
      total -= first.bytes;
      try {
        await unlink(join(this.options.dir, first.file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError?.(error);
      }
    }
  }
}

function compareCursors(a: HistoryCursor, b: HistoryCursor): number {
  return a.wallTs - b.wallTs || a.segment - b.segment || a.line - b.line;
}

interface Found {
  at: HistoryCursor;
  point: HistoryPoint;
}

/**
 * The `capacity` best items offered, by `order` (smaller is better), in a binary heap whose root is the worst
 * kept: an item worse than it is refused at once when full. Memory: capacity items, whatever is offered.
 */
class BoundedBest<T> {
  private readonly heap: T[] = [];

  constructor(
    private readonly capacity: number,
    private readonly order: (a: T, b: T) => number,
  ) {}

  size(): number {
    return this.heap.length;
  }

  full(): boolean {
    return this.heap.length >= this.capacity;
  }

  worst(): T {
    return this.heap[0]!;
  }

  offer(item: T): void {
    if (!this.full()) {
      this.heap.push(item);
      this.up(this.heap.length - 1);
    } else if (this.order(item, this.heap[0]!) < 0) {
      this.heap[0] = item;
      this.down(0);
    }
  }

  /** Best first. */
  sorted(): T[] {
    return [...this.heap].sort(this.order);
  }

  // The heap is ordered worst at the root: parent ≥ child by `order`.
  private up(index: number): void {
    const { heap } = this;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.order(heap[index]!, heap[parent]!) <= 0) return;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  private down(index: number): void {
    const { heap } = this;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let largest = index;
      if (left < heap.length && this.order(heap[left]!, heap[largest]!) > 0) largest = left;
      if (right < heap.length && this.order(heap[right]!, heap[largest]!) > 0) largest = right;
      if (largest === index) return;
      [heap[index], heap[largest]] = [heap[largest]!, heap[index]!];
      index = largest;
    }
  }
}

function segmentNumber(file: string): number {
  return Number(file.slice(SEGMENT_PREFIX.length, -SEGMENT_SUFFIX.length)) || 0;
}
