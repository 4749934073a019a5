/**
 * A one-line progress bar for commands that take more than a second: drawn on stderr, and only when stderr is a
 * terminal, so stdout stays clean for --json and for pipes. The time left is estimated from the pace so far,
 * or from a per-step guess until a few steps have been measured.
 */
import { performance } from 'node:perf_hooks';

export interface ProgressOptions {
  /** Where to draw; nothing is drawn unless it is a terminal (or `force`). */
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  total: number;
  /** A guess of one step's duration, ms, used until MEASURED_STEPS steps have been done. */
  stepGuessMs?: number;
  force?: boolean;
}

export interface Progress {
  /** Sets the steps done and the text after the bar. */
  update(done: number, label?: string): void;
  /** Prints a line above the bar (the bar is redrawn under it); to `out` when given (e.g. stdout), else beside the bar. */
  note(line: string, out?: NodeJS.WritableStream): void;
  /** Clears the bar. */
  finish(): void;
}

const REDRAW_MS = 100;
const MEASURED_STEPS = 5;
const BAR_WIDTH = 24;

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function createProgress(options: ProgressOptions): Progress {
  const { stream, total } = options;
  const enabled = options.force === true || stream.isTTY === true;
  const startedAt = performance.now();
  let done = 0;
  let label = '';
  let lastDraw = -Infinity;
  let shown = false;

  const remainingMs = (): number => {
    const left = Math.max(0, total - done);
    if (done >= MEASURED_STEPS) return ((performance.now() - startedAt) / done) * left;
    return options.stepGuessMs === undefined ? Number.NaN : options.stepGuessMs * left;
  };

  const line = (): string => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const eta = remainingMs();
    // The time left goes before the label: a narrow terminal cuts the end of the line.
    const text = `${bar} ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total}${Number.isNaN(eta) ? '' : ` · ~${formatDuration(eta)} left`}${label ? ` · ${label}` : ''}`;
    const width = stream.columns ?? 100;
    return text.length > width - 1 ? text.slice(0, width - 1) : text;
  };

  const draw = (force: boolean): void => {
    if (!enabled) return;
    const now = performance.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    stream.write(`\r\x1b[K${line()}`);
    shown = true;
  };

  const clear = (): void => {
    if (enabled && shown) stream.write('\r\x1b[K');
    shown = false;
  };

  return {
    update(next, nextLabel) {
      done = next;
      if (nextLabel !== undefined) label = nextLabel;
      draw(false);
    },
    note(text, out) {
      if (!enabled) {
        out?.write(`${text}\n`);
        return;
      }
      clear();
      (out ?? stream).write(`${text}\n`);
      draw(true);
    },
    finish() {
      clear();
    },
  };
}
