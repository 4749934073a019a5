import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFrame, FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, unpackBlock, type DecodedData } from './format.js';
import { errorCode } from './io.js';
import type { SegmentInfo, SegmentUpdate } from './messages.js';
import type { OutboxRecord } from './types.js';

const CHUNK_BYTES = 256 * 1024;

export interface DiskReadLimits {
  maxRecords: number;
  maxBytes: number;
}

export interface DiskReadResult {
  records: OutboxRecord[];
  bytes: number;
  /** Stopped at maxRecords / maxBytes: the caller has what it asked for. */
  limited: boolean;
  /** Every record on disk with after < seq < before was seen (or the read must be retried: `retry`). */
  retry: boolean;
}

export interface DiskReadContext {
  /** Whether the record still needs sending (not acked). */
  wanted(seq: number): boolean;
  /** The corrected wall time of an unsynced record of a run, if a correction is known. */
  correctedWall(runId: string, seq: number, wallTs: number): number | undefined;
  onDamage(detail: string): void;
}

/**
 * Reads records from the segment files on the main thread, with asynchronous I/O (the libuv pool, never
 * blocking the loop), from an index the writer keeps it up to date with. Sequential draining resumes where the
 * last read stopped and reuses the last chunk read, so a backlog is read once.
 */
export class DiskReader {
  private segments: SegmentInfo[] = [];
  private cursor: { name: string; afterSeq: number; offset: number } | null = null;
  private chunk: { name: string; start: number; buf: Buffer } | null = null;
  private block: { name: string; offset: number; raw: Buffer; records: DecodedData[] } | null = null;
  private readonly damaged = new Set<string>();

  constructor(private readonly dir: string) {}

  reset(segments: readonly SegmentInfo[]): void {
    this.segments = [...segments].sort((a, b) => a.baseSeq - b.baseSeq);
  }

  apply(updates: readonly SegmentUpdate[]): void {
    for (const update of updates) {
      switch (update.op) {
        case 'add':
          this.segments.push(update.segment);
          this.segments.sort((a, b) => a.baseSeq - b.baseSeq);
          break;
        case 'grow': {
          const segment = this.segments.find((s) => s.name === update.name);
          if (!segment) break;
          segment.size = update.size;
          segment.lastSeq = update.lastSeq;
          segment.sparseSeqs.push(...update.sparseSeqs);
          segment.sparseOffsets.push(...update.sparseOffsets);
          break;
        }
        case 'remove':
          this.segments = this.segments.filter((s) => s.name !== update.name);
          this.forget(update.name);
          break;
        case 'replace':
          this.segments = this.segments.map((s) => (s.name === update.name ? update.segment : s));
          this.forget(update.name);
          break;
      }
    }
  }

  private forget(name: string): void {
    if (this.cursor?.name === name) this.cursor = null;
    if (this.chunk?.name === name) this.chunk = null;
    if (this.block?.name === name) this.block = null;
  }

  /** Whether any segment may hold records with after < seq < before. */
  has(after: number, before: number): boolean {
    return this.segments.some((s) => s.lastSeq !== null && s.lastSeq > after && s.baseSeq < before);
  }

  /** Unacked records with after < seq < before, in seq order, within the limits. */
  async read(after: number, before: number, limits: DiskReadLimits, context: DiskReadContext): Promise<DiskReadResult> {
    const result: DiskReadResult = { records: [], bytes: 0, limited: false, retry: false };
    for (const segment of [...this.segments]) {
      if (segment.baseSeq >= before) break;
      if (segment.lastSeq === null || segment.lastSeq <= after) continue;
      const done = await this.readSegment(segment, after, before, limits, context, result);
      if (done) return result;
    }
    return result;
  }

  /** True when the read is over (limits reached, `before` reached, or a retry is needed). */
  private async readSegment(
    segment: SegmentInfo,
    after: number,
    before: number,
    limits: DiskReadLimits,
    context: DiskReadContext,
    result: DiskReadResult,
  ): Promise<boolean> {
    let handle: FileHandle;
    try {
      handle = await open(join(this.dir, segment.name), 'r');
    } catch (error) {
      // Removed (all acked, or dropped) or replaced by its compacted copy since the index was taken.
      if (errorCode(error) === 'ENOENT') {
        result.retry = true;
        return true;
      }
      throw error;
    }
    try {
      const end = segment.size;
      let offset = this.startOffset(segment, after);
      let need = FRAME_HEADER_BYTES;
      let lastSeen = after;
      while (offset < end) {
        const { buf, start } = await this.chunkAt(handle, segment.name, offset, need, end);
        // The file is shorter than the index says (cannot happen unless something else cut it): stop here.
        if (start + buf.length < Math.min(end, offset + need)) break;
        need = FRAME_HEADER_BYTES;
        const limit = Math.min(buf.length, end - start);
        let at = offset - start;
        for (;;) {
          if (start + at >= end) {
            offset = end;
            break;
          }
          const frame = decodeFrame(buf, at, limit);
          if (frame.kind === 'incomplete') {
            if (start + limit >= end) {
              // Cannot happen for a segment the writer indexed (sizes end on frame boundaries): treat as its end.
              offset = end;
            } else {
              offset = start + at;
              need = at + FRAME_HEADER_BYTES <= limit ? FRAME_HEADER_BYTES + buf.readUInt32LE(at) : FRAME_HEADER_BYTES;
            }
            break;
          }
          if (frame.kind === 'invalid') {
            this.reportDamage(segment.name, `${frame.reason} at offset ${start + at}`, context);
            offset = end;
            break;
          }
          if (frame.kind === 'state') {
            at = frame.end;
            continue;
          }
          const frameOffset = start + at;
          let records: readonly DecodedData[];
          let source: Buffer;
          if (frame.kind === 'block') {
            if (frame.lastSeq <= after) {
              at = frame.end;
              continue;
            }
            if (frame.firstSeq >= before) return true;
            const cached = this.block;
            if (cached && cached.name === segment.name && cached.offset === frameOffset) {
              records = cached.records;
              source = cached.raw;
            } else {
              const unpacked = unpackBlock(buf, frame);
              if (!unpacked) {
                this.reportDamage(segment.name, `block at offset ${frameOffset} does not unpack`, context);
                offset = end;
                break;
              }
              this.block = { name: segment.name, offset: frameOffset, ...unpacked };
              records = unpacked.records;
              source = unpacked.raw;
            }
          } else {
            records = [frame];
            source = buf;
          }
          for (const r of records) {
            if (r.seq <= after) continue;
            if (r.seq >= before) return true;
            if (context.wanted(r.seq)) {
              const size = r.jsonEnd - r.jsonStart;
              if (result.records.length >= limits.maxRecords || (result.records.length > 0 && result.bytes + size > limits.maxBytes)) {
                this.cursor = { name: segment.name, afterSeq: lastSeen, offset: frameOffset };
                result.limited = true;
                return true;
              }
              const record: OutboxRecord = {
                seq: r.seq,
                stream: r.stream,
                payload: JSON.parse(source.toString('utf8', r.jsonStart, r.jsonEnd)) as unknown,
                wallTs: r.wallTs,
                monoTs: r.monoTs,
                clockSynced: r.clockSynced,
              };
              if (!r.clockSynced) {
                const corrected = context.correctedWall(segment.runId, r.seq, r.wallTs);
                if (corrected !== undefined) record.correctedWallTs = corrected;
              }
              result.records.push(record);
              result.bytes += size;
            }
            if (r.seq > lastSeen) lastSeen = r.seq;
          }
          at = frame.end;
        }
      }
      this.cursor = { name: segment.name, afterSeq: lastSeen, offset: end };
      return false;
    } finally {
      await handle.close();
    }
  }

  private reportDamage(name: string, detail: string, context: DiskReadContext): void {
    if (this.damaged.has(name)) return;
    this.damaged.add(name);
    context.onDamage(`segment ${name}: ${detail} while reading; the rest of it is skipped`);
  }

  private startOffset(segment: SegmentInfo, after: number): number {
    const c = this.cursor;
    if (c && c.name === segment.name && c.afterSeq === after && c.offset <= segment.size) return c.offset;
    // The last sparse entry at or before the first seq we want.
    let lo = 0;
    let hi = segment.sparseSeqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segment.sparseSeqs[mid]! <= after + 1) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? SEGMENT_HEADER_BYTES : segment.sparseOffsets[lo - 1]!;
  }

  /** A buffer holding at least bytes [offset, offset + need) of the file (clipped at `end`); the last chunk when it has them. */
  private async chunkAt(handle: FileHandle, name: string, offset: number, need: number, end: number): Promise<{ buf: Buffer; start: number }> {
    const cached = this.chunk;
    if (cached && cached.name === name && offset >= cached.start && Math.min(end, offset + need) <= cached.start + cached.buf.length) {
      return { buf: cached.buf, start: cached.start };
    }
    const wantEnd = Math.min(end, offset + Math.max(need, CHUNK_BYTES));
    const length = Math.max(0, wantEnd - offset);
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const chunk = { name, start: offset, buf: got === length ? buf : buf.subarray(0, got) };
    this.chunk = chunk;
    return { buf: chunk.buf, start: chunk.start };
  }
}
