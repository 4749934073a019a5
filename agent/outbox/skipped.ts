import { existsSync, readFileSync } from 'node:fs';
import type { Io } from './io.js';

/**
 * The seq ranges skipped at recent opens, newest last. Each open after an unclean stop skips one range; a run
 * killed before it ever reached the broker could not name its range in a birth, so births name every range
 * still listed. Bounded: a gateway that restarts in a loop keeps the latest ones.
 */
export const SKIPPED_FILE = 'skipped.json';
export const SKIPPED_KEPT = 32;

export interface SeqRange {
  from: number;
  to: number;
}

const isRange = (r: unknown): r is SeqRange =>
  typeof r === 'object' && r !== null && Number.isSafeInteger((r as SeqRange).from) && Number.isSafeInteger((r as SeqRange).to) && (r as SeqRange).from >= 1 && (r as SeqRange).to >= (r as SeqRange).from;

/** The listed ranges; an unreadable or malformed file counts as none (it is rewritten at the next unclean open). */
export function readSkipped(path: string): { ranges: SeqRange[]; problem: string | null } {
  if (!existsSync(path)) return { ranges: [], problem: null };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { v?: unknown; ranges?: unknown };
    if (parsed.v !== 1 || !Array.isArray(parsed.ranges) || !parsed.ranges.every(isRange)) return { ranges: [], problem: 'unexpected format' };
    return { ranges: parsed.ranges.slice(-SKIPPED_KEPT).map((r) => ({ from: r.from, to: r.to })), problem: null };
  } catch (error) {
    return { ranges: [], problem: (error as Error).message };
  }
}

/** Writes the list atomically (the newest SKIPPED_KEPT of it). */
export function writeSkipped(io: Io, path: string, ranges: readonly SeqRange[]): void {
  io.writeAtomic(path, Buffer.from(JSON.stringify({ v: 1, ranges: ranges.slice(-SKIPPED_KEPT) })));
}
