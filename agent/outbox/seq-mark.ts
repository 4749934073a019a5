import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { crc32 } from './crc32.js';
import type { Io } from './io.js';

/**
 * The seq high-water mark: a tiny file apart from the log, so a damaged or emptied log can never roll seq
 * back. Two 512-byte slots, each [magic 'VGHW'][version u16][clean u8][0][generation f64][hwm f64][crc32];
 * a write overwrites the older slot in place and syncs it, so a torn write leaves the other slot intact and
 * no write needs a free block (it still works on a full disk).
 *
 * The mark is a reservation: while running it stays ahead of the seqs handed out, so a crash can skip seqs
 * but never reuse one (a record may have gone out live before it reached the disk). A clean close writes
 * the exact last seq with the clean flag, so a clean restart continues without a gap.
 */
export const SEQ_MARK_FILE = 'seq.hwm';
/** How far the seq mark runs ahead of the seqs handed out; a crash skips at most this many (plus what it lost). */
export const SEQ_RESERVE = 10_000;
const SLOT_BYTES = 512;
const MAGIC = 0x57484756; // 'VGHW' little-endian
const VERSION = 1;

export type SeqMarkRead =
  | { status: 'missing' }
  | { status: 'ok'; hwm: number; clean: boolean; generation: number }
  | { status: 'damaged'; reason: string };

function encodeSlot(hwm: number, clean: boolean, generation: number): Buffer {
  const slot = Buffer.alloc(SLOT_BYTES);
  slot.writeUInt32LE(MAGIC, 0);
  slot.writeUInt16LE(VERSION, 4);
  slot[6] = clean ? 1 : 0;
  slot.writeDoubleLE(generation, 8);
  slot.writeDoubleLE(hwm, 16);
  slot.writeUInt32LE(crc32(slot.subarray(0, 24)), 24);
  return slot;
}

function decodeSlot(slot: Buffer): { hwm: number; clean: boolean; generation: number } | null {
  if (slot.length < 28 || slot.readUInt32LE(0) !== MAGIC || slot.readUInt16LE(4) !== VERSION) return null;
  if (slot.readUInt32LE(24) !== crc32(slot.subarray(0, 24))) return null;
  const hwm = slot.readDoubleLE(16);
  const generation = slot.readDoubleLE(8);
  if (!Number.isSafeInteger(hwm) || hwm < 0 || !Number.isSafeInteger(generation)) return null;
  return { hwm, clean: slot[6] === 1, generation };
}

export function readSeqMark(path: string): SeqMarkRead {
  if (!existsSync(path)) return { status: 'missing' };
  const buf = Buffer.alloc(2 * SLOT_BYTES);
  let got = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      got = readSync(fd, buf, 0, buf.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return { status: 'damaged', reason: (error as Error).message };
  }
  const slots = [decodeSlot(buf.subarray(0, Math.min(got, SLOT_BYTES))), got > SLOT_BYTES ? decodeSlot(buf.subarray(SLOT_BYTES, got)) : null];
  const valid = slots.filter((s): s is NonNullable<typeof s> => s !== null);
  if (valid.length === 0) return { status: 'damaged', reason: `no valid slot in ${got} bytes` };
  const best = valid.reduce((a, b) => (b.generation > a.generation ? b : a));
  return { status: 'ok', ...best };
}

export class SeqMark {
  private constructor(
    private readonly io: Io,
    private readonly fd: number,
    private generation: number,
    public hwm: number,
  ) {}

  /** Opens an existing, readable mark for in-place updates. */
  static open(io: Io, path: string, current: { hwm: number; generation: number }): SeqMark {
    return new SeqMark(io, openSync(path, 'r+'), current.generation, current.hwm);
  }

  /** Creates the file atomically with both slots (first start, or after the old one was moved aside). */
  static create(io: Io, path: string, hwm: number): SeqMark {
    // Slot = generation % 2: slot 1 holds generation 1, so the next write (2) goes to slot 0.
    io.writeAtomic(path, Buffer.concat([encodeSlot(hwm, false, 0), encodeSlot(hwm, false, 1)]));
    return new SeqMark(io, openSync(path, 'r+'), 1, hwm);
  }

  write(hwm: number, clean: boolean): void {
    this.generation++;
    this.io.write(this.fd, encodeSlot(hwm, clean, this.generation), (this.generation % 2) * SLOT_BYTES);
    this.io.datasync(this.fd);
    this.hwm = hwm;
  }

  close(): void {
    closeSync(this.fd);
  }
}
