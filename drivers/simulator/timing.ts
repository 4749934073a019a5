/**
 * Emulated wire time and sub-millisecond scheduling. Node timers are 1 ms granular (and often late), while a
 * whole transaction at 115200 baud takes ~5 ms: sleep with a timer for the bulk, then spin on setImmediate
 * against the high-resolution clock for the rest.
 */
import { performance } from 'node:perf_hooks';
import { charTimeMs, t35Ms, type LineSettings } from '../modbus/rtu.js';
import type { WireTiming } from './types.js';

/** Time a frame of `bytes` characters occupies the line. */
export function frameTimeMs(line: LineSettings, bytes: number): number {
  return bytes * charTimeMs(line);
}

/**
 * The least time from the master starting to send a request to it having the whole answer, on a real line:
 * request on the wire + t3.5 (the slave detects the end of the frame) + turnaround + answer on the wire.
 */
export function transactionWireTimeMs(timing: WireTiming, requestBytes: number, responseBytes: number): number {
  return frameTimeMs(timing.line, requestBytes) + t35Ms(timing.line) + timing.turnaroundMs + frameTimeMs(timing.line, responseBytes);
}

/** Below this much time left, spin instead of trusting a timer. */
const SPIN_BELOW_MS = 2;

/** Runs callbacks at precise monotonic instants; cancel() drops everything still pending. */
export class PreciseScheduler {
  private readonly pending = new Set<{ cancelled: boolean; timer: NodeJS.Timeout | null }>();

  now(): number {
    return performance.now();
  }

  /** Calls `fn` at monotonic time `atMs` (performance.now() scale), or at once if that has passed. */
  at(atMs: number, fn: () => void): void {
    const job = { cancelled: false, timer: null as NodeJS.Timeout | null };
    this.pending.add(job);
    const step = (): void => {
      job.timer = null;
      if (job.cancelled) return;
      const remaining = atMs - performance.now();
      if (remaining <= 0) {
        this.pending.delete(job);
        fn();
      } else if (remaining > SPIN_BELOW_MS) {
        job.timer = setTimeout(step, remaining - SPIN_BELOW_MS + 0.5);
      } else {
        setImmediate(step);
      }
    };
    step();
  }

  cancel(): void {
    for (const job of this.pending) {
      job.cancelled = true;
      if (job.timer) clearTimeout(job.timer);
    }
    this.pending.clear();
  }
}
