import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32.js';
import type { Range } from './range-set.js';
import type { OutboxStream } from './types.js';

/**
 * On-disk format (docs/outbox.md has the picture).
 *
 * Segment file `seg-<baseSeq, 16 digits>.log` (a compacted one `seg-<baseSeq>.c<generation>.log`):
 *   80-byte header, then frames. Every frame is [body length u32][crc32 u32][body]; the CRC covers the
 *   length bytes and the body, so a torn or flipped frame never decodes. All numbers little-endian.
 */
export const SEGMENT_MAGIC = 'VIGILSEG';
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 80;
export const FRAME_HEADER_BYTES = 8;
/** Larger bodies are taken as damage, not data: a reading batch is a few kilobytes. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export const BODY_DATA = 1;
export const BODY_STATE = 2;
/**
 * A block: the telemetry of one group commit, compressed together (deflate-raw). Body: type, codec, 0, 0,
 * count u32, firstSeq f64, lastSeq f64, raw length u32, then the compressed records, each [length u32][data
 * body]. Events are never in blocks: each is its own frame, committed at once.
 */
export const BODY_BLOCK = 3;
export const BLOCK_FIXED_BYTES = 28;
export const CODEC_NONE = 0;
export const CODEC_DEFLATE = 1;
/** Body layout of a data record: type, stream, flags, 0, seq f64, wallTs f64, monoTs f64, payload JSON. */
export const DATA_FIXED_BYTES = 28;

export interface SegmentHeader {
  baseSeq: number;
  /** The store's running clock when the segment was created (see docs: age is never measured by wall time). */
  storeClockMs: number;
  /** 16 random bytes, hex: one per process lifetime that opened the store. */
  runId: string;
  /** /proc/sys/kernel/random/boot_id without dashes, or zeros when unknown. */
  kernelBootId: string;
  createdWallMs: number;
  compacted: boolean;
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  buf.write(SEGMENT_MAGIC, 0, 'latin1');
  buf.writeUInt16LE(SEGMENT_VERSION, 8);
  buf.writeUInt16LE(SEGMENT_HEADER_BYTES, 10);
  buf.writeUInt32LE(header.compacted ? 1 : 0, 12);
  buf.writeDoubleLE(header.baseSeq, 16);
  buf.writeDoubleLE(header.storeClockMs, 24);
  Buffer.from(header.runId.padEnd(32, '0').slice(0, 32), 'hex').copy(buf, 32);
  Buffer.from(header.kernelBootId.padEnd(32, '0').slice(0, 32), 'hex').copy(buf, 48);
  buf.writeDoubleLE(header.createdWallMs, 64);
  buf.writeUInt32LE(crc32(buf.subarray(0, 76)), 76);
  return buf;
}

/** Null when the bytes are not a header this version wrote (short, wrong magic or version, bad CRC). */
export function decodeSegmentHeader(buf: Buffer): SegmentHeader | null {
  if (buf.length < SEGMENT_HEADER_BYTES) return null;
  if (buf.toString('latin1', 0, 8) !== SEGMENT_MAGIC) return null;
  if (buf.readUInt16LE(8) !== SEGMENT_VERSION || buf.readUInt16LE(10) !== SEGMENT_HEADER_BYTES) return null;
  if (buf.readUInt32LE(76) !== crc32(buf.subarray(0, 76))) return null;
  const baseSeq = buf.readDoubleLE(16);
  if (!Number.isSafeInteger(baseSeq) || baseSeq < 1) return null;
  return {
    baseSeq,
    storeClockMs: buf.readDoubleLE(24),
    runId: buf.toString('hex', 32, 48),
    kernelBootId: buf.toString('hex', 48, 64),
    createdWallMs: buf.readDoubleLE(64),
    compacted: (buf.readUInt32LE(12) & 1) === 1,
  };
}

export interface EncodableRecord {
  seq: number;
  stream: OutboxStream;
  wallTs: number;
  monoTs: number;
  clockSynced: boolean;
  /** The payload, already JSON. */
  json: string;
}

/** State record: the ack cursor and ranges above it, drop counters and the store clock. */
export interface StoreState {
  ackedThrough: number;
  ranges: Range[];
  dropped: { telemetry: number; event: number };
  storeClockMs: number;
}

function sealFrame(buf: Buffer, at: number, bodyBytes: number): void {
  buf.writeUInt32LE(bodyBytes, at);
  const crc = crc32(buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + bodyBytes), crc32(buf.subarray(at, at + 4)));
  buf.writeUInt32LE(crc, at + 4);
}

/** A data body (no frame header): what goes into a block, or after a frame header for an event. */
export function encodeDataBody(record: EncodableRecord): Buffer {
  const jsonBytes = Buffer.byteLength(record.json);
  const body = Buffer.allocUnsafe(DATA_FIXED_BYTES + jsonBytes);
  body[0] = BODY_DATA;
  body[1] = record.stream === 'event' ? 1 : 0;
  body[2] = record.clockSynced ? 1 : 0;
  body[3] = 0;
  body.writeDoubleLE(record.seq, 4);
  body.writeDoubleLE(record.wallTs, 12);
  body.writeDoubleLE(record.monoTs, 20);
  body.write(record.json, DATA_FIXED_BYTES, jsonBytes, 'utf8');
  return body;
}

export function frameOf(body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  body.copy(frame, FRAME_HEADER_BYTES);
  sealFrame(frame, 0, body.length);
  return frame;
}

/** One block frame of data bodies in seq order (telemetry of one commit). */
export function encodeBlockFrame(bodies: readonly { seq: number; body: Buffer }[]): Buffer {
  let rawLength = 0;
  for (const { body } of bodies) rawLength += 4 + body.length;
  const raw = Buffer.allocUnsafe(rawLength);
  let at = 0;
  for (const { body } of bodies) {
    raw.writeUInt32LE(body.length, at);
    body.copy(raw, at + 4);
    at += 4 + body.length;
  }
  const packed = deflateRawSync(raw, { level: 1 });
  const useDeflate = packed.length < raw.length;
  const data = useDeflate ? packed : raw;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + BLOCK_FIXED_BYTES + data.length);
  const b = FRAME_HEADER_BYTES;
  frame[b] = BODY_BLOCK;
  frame[b + 1] = useDeflate ? CODEC_DEFLATE : CODEC_NONE;
  frame[b + 2] = 0;
  frame[b + 3] = 0;
  frame.writeUInt32LE(bodies.length, b + 4);
  frame.writeDoubleLE(bodies[0]!.seq, b + 8);
  frame.writeDoubleLE(bodies[bodies.length - 1]!.seq, b + 16);
  frame.writeUInt32LE(rawLength, b + 24);
  data.copy(frame, b + BLOCK_FIXED_BYTES);
  sealFrame(frame, 0, BLOCK_FIXED_BYTES + data.length);
  return frame;
}

export function encodeStateFrame(state: StoreState): Buffer {
  const json = JSON.stringify({ v: 1, ...state });
  const jsonBytes = Buffer.byteLength(json);
  const buf = Buffer.alloc(FRAME_HEADER_BYTES + 4 + jsonBytes);
  buf[FRAME_HEADER_BYTES] = BODY_STATE;
  buf.write(json, FRAME_HEADER_BYTES + 4, jsonBytes, 'utf8');
  sealFrame(buf, 0, 4 + jsonBytes);
  return buf;
}

export interface DecodedData {
  kind: 'data';
  seq: number;
  stream: OutboxStream;
  clockSynced: boolean;
  wallTs: number;
  monoTs: number;
  /** Where the payload JSON sits in the buffer (decoded lazily: recovery scans never parse payloads). */
  jsonStart: number;
  jsonEnd: number;
  end: number;
}

export interface DecodedBlock {
  kind: 'block';
  count: number;
  firstSeq: number;
  lastSeq: number;
  codec: number;
  rawLength: number;
  dataStart: number;
  dataEnd: number;
  end: number;
}

export type Decoded =
  | DecodedData
  | DecodedBlock
  | { kind: 'state'; state: StoreState; end: number }
  /** Not enough bytes for the frame: the end of the data, or a read that must continue further on. */
  | { kind: 'incomplete' }
  /** A frame that is not one: bad length, bad CRC, unknown body. */
  | { kind: 'invalid'; reason: string };

export function decodeFrame(buf: Buffer, at: number, limit = buf.length): Decoded {
  if (at + FRAME_HEADER_BYTES > limit) return { kind: 'incomplete' };
  const bodyBytes = buf.readUInt32LE(at);
  if (bodyBytes === 0) return at + FRAME_HEADER_BYTES <= limit ? { kind: 'invalid', reason: 'zero length' } : { kind: 'incomplete' };
  if (bodyBytes > MAX_BODY_BYTES) return { kind: 'invalid', reason: `length ${bodyBytes}` };
  const body = at + FRAME_HEADER_BYTES;
  const end = body + bodyBytes;
  if (end > limit) return { kind: 'incomplete' };
  const crc = crc32(buf.subarray(body, end), crc32(buf.subarray(at, at + 4)));
  if (crc !== buf.readUInt32LE(at + 4)) return { kind: 'invalid', reason: 'crc mismatch' };
  const type = buf[body];
  if (type === BODY_DATA && bodyBytes >= DATA_FIXED_BYTES) {
    const stream = buf[body + 1];
    if (stream !== 0 && stream !== 1) return { kind: 'invalid', reason: 'unknown stream' };
    return {
      kind: 'data',
      stream: stream === 1 ? 'event' : 'telemetry',
      clockSynced: buf[body + 2] === 1,
      seq: buf.readDoubleLE(body + 4),
      wallTs: buf.readDoubleLE(body + 12),
      monoTs: buf.readDoubleLE(body + 20),
      jsonStart: body + DATA_FIXED_BYTES,
      jsonEnd: end,
      end,
    };
  }
  if (type === BODY_BLOCK && bodyBytes >= BLOCK_FIXED_BYTES) {
    const count = buf.readUInt32LE(body + 4);
    const firstSeq = buf.readDoubleLE(body + 8);
    const lastSeq = buf.readDoubleLE(body + 16);
    const codec = buf[body + 1]!;
    if (count === 0 || !Number.isSafeInteger(firstSeq) || !Number.isSafeInteger(lastSeq) || lastSeq < firstSeq || lastSeq - firstSeq + 1 < count) {
      return { kind: 'invalid', reason: 'block header' };
    }
    if (codec !== CODEC_NONE && codec !== CODEC_DEFLATE) return { kind: 'invalid', reason: `unknown codec ${codec}` };
    return { kind: 'block', count, firstSeq, lastSeq, codec, rawLength: buf.readUInt32LE(body + 24), dataStart: body + BLOCK_FIXED_BYTES, dataEnd: end, end };
  }
  if (type === BODY_STATE) {
    try {
      const parsed = JSON.parse(buf.toString('utf8', body + 4, end)) as Partial<StoreState> & { v?: number };
      if (parsed.v !== 1 || typeof parsed.ackedThrough !== 'number' || !Array.isArray(parsed.ranges)) {
        return { kind: 'invalid', reason: 'state record version' };
      }
      return {
        kind: 'state',
        end,
        state: {
          ackedThrough: parsed.ackedThrough,
          ranges: parsed.ranges,
          dropped: { telemetry: parsed.dropped?.telemetry ?? 0, event: parsed.dropped?.event ?? 0 },
          storeClockMs: parsed.storeClockMs ?? 0,
        },
      };
    } catch {
      return { kind: 'invalid', reason: 'state record JSON' };
    }
  }
  return { kind: 'invalid', reason: `unknown body type ${String(type)}` };
}

const SEGMENT_NAME = /^seg-(\d{16})(?:\.c(\d+))?\.log$/;

export function segmentName(baseSeq: number, generation = 0): string {
  const base = String(baseSeq).padStart(16, '0');
  return generation === 0 ? `seg-${base}.log` : `seg-${base}.c${generation}.log`;
}

export function parseSegmentName(name: string): { baseSeq: number; generation: number } | null {
  const match = SEGMENT_NAME.exec(name);
  if (!match) return null;
  return { baseSeq: Number(match[1]), generation: match[2] === undefined ? 0 : Number(match[2]) };
}

/** The records of a block, decoded (payload JSON left in place), or null if the block does not unpack. */
export function unpackBlock(buf: Buffer, block: DecodedBlock): { raw: Buffer; records: DecodedData[] } | null {
  let raw: Buffer;
  try {
    const data = buf.subarray(block.dataStart, block.dataEnd);
    raw = block.codec === CODEC_DEFLATE ? inflateRawSync(data, { maxOutputLength: MAX_BODY_BYTES * 4 }) : data;
  } catch {
    return null;
  }
  if (raw.length !== block.rawLength) return null;
  const records: DecodedData[] = [];
  let at = 0;
  let previous = -Infinity;
  while (at < raw.length) {
    if (at + 4 > raw.length) return null;
    const length = raw.readUInt32LE(at);
    const body = at + 4;
    const end = body + length;
    if (length < DATA_FIXED_BYTES || end > raw.length || raw[body] !== BODY_DATA) return null;
    const seq = raw.readDoubleLE(body + 4);
    if (!Number.isSafeInteger(seq) || seq <= previous || seq < block.firstSeq || seq > block.lastSeq) return null;
    previous = seq;
    records.push({
      kind: 'data',
      stream: raw[body + 1] === 1 ? 'event' : 'telemetry',
      clockSynced: raw[body + 2] === 1,
      seq,
      wallTs: raw.readDoubleLE(body + 12),
      monoTs: raw.readDoubleLE(body + 20),
      jsonStart: body + DATA_FIXED_BYTES,
      jsonEnd: end,
      end,
    });
    at = end;
  }
  if (records.length !== block.count) return null;
  return { raw, records };
}
