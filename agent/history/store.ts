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
    await this.flush();
    const found: HistoryPoint[] = [];
    const needle = JSON.stringify(channelId);
    for (const segment of [...this.segments]) {
      if (segment.maxTs < from || segment.minTs > to) continue;
      try {
        const lines = createInterface({ input: createReadStream(join(this.options.dir, segment.file), 'utf8'), crlfDelay: Infinity });
        for await (const text of lines) {
          if (!text.includes(needle)) continue;
          const decoded = decode(text);
          if (!decoded || decoded.channelId !== channelId) continue;
          if (decoded.point.wallTs < from || decoded.point.wallTs > to) continue;
          found.push(decoded.point);
        }
      } catch (error) {
        // A segment pruned while being read: what it held is gone anyway.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError?.(error);
      }
    }
    // Stable: readings of one instant keep their order of arrival.
    found.sort((a, b) => a.wallTs - b.wallTs);
    return maxValues > 0 ? found.slice(0, maxValues) : found;
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

function segmentNumber(file: string): number {
  return Number(file.slice(SEGMENT_PREFIX.length, -SEGMENT_SUFFIX.length)) || 0;
}
