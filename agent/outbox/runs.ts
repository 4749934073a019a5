import { existsSync, readFileSync } from 'node:fs';
import type { Io } from './io.js';

/**
 * Runs and clock corrections. Every process that opens the store is a run (random id, written in the header
 * of each segment it creates). `correctClock` records, for the current run, the offset true − believed wall
 * time and the last seq it applies to; runs of the same kernel boot (same /proc boot_id, same system clock)
 * that ended before the clock was set, without a correction of their own, get the same offset.
 * Persisted as one small JSON file, written atomically; applied on read, never rewriting the log.
 */
export const RUNS_FILE = 'runs.json';

export interface Correction {
  /** Applies to unsynced records with seq ≤ throughSeq; null: every record of the run. */
  throughSeq: number | null;
  offsetMs: number;
}

export interface RunInfo {
  kernelBootId: string;
  startedWallMs: number;
  corrections: Correction[];
}

export type Runs = Record<string, RunInfo>;

export const UNKNOWN_BOOT = '0'.repeat(32);

export function readKernelBootId(): string {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').toLowerCase();
    return /^[0-9a-f]{32}$/.test(id) ? id : UNKNOWN_BOOT;
  } catch {
    return UNKNOWN_BOOT;
  }
}

export type RunsRead = { status: 'ok'; runs: Runs } | { status: 'missing' } | { status: 'damaged'; reason: string };

export function readRuns(path: string): RunsRead {
  if (!existsSync(path)) return { status: 'missing' };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { v?: number; runs?: unknown };
    if (parsed.v !== 1 || typeof parsed.runs !== 'object' || parsed.runs === null) return { status: 'damaged', reason: 'unexpected format' };
    return { status: 'ok', runs: parsed.runs as Runs };
  } catch (error) {
    return { status: 'damaged', reason: (error as Error).message };
  }
}

export function writeRuns(io: Io, path: string, runs: Runs): void {
  io.writeAtomic(path, Buffer.from(JSON.stringify({ v: 1, runs })));
}

/** Adds a correction to `runId` and to earlier runs of the same kernel boot that have none. */
export function applyCorrection(runs: Runs, runId: string, correction: Correction): void {
  const current = runs[runId];
  if (!current) return;
  current.corrections.push(correction);
  if (current.kernelBootId === UNKNOWN_BOOT) return;
  for (const [id, run] of Object.entries(runs)) {
    if (id !== runId && run.kernelBootId === current.kernelBootId && run.corrections.length === 0) {
      run.corrections.push({ throughSeq: null, offsetMs: correction.offsetMs });
    }
  }
}

/** The offset for an unsynced record of `run` with this seq: the first correction that covers it. */
export function correctionFor(run: RunInfo | undefined, seq: number): number | undefined {
  if (!run) return undefined;
  for (const c of run.corrections) if (c.throughSeq === null || seq <= c.throughSeq) return c.offsetMs;
  return undefined;
}
