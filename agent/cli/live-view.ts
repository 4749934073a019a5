import { buildStatus, oldestWaitingWallTs, type StatusSnapshot } from '../api/index.js';
import type { RunningAgent } from '../main/index.js';
import { renderStatus } from './status-text.js';

export interface LiveViewOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  refreshMs?: number;
  title?: string;
}

/**
 * The dashboard frame: a header, then the status snapshot as text. The snapshot is the one the local API serves
 * (`vigil status` shows the same, from another process).
 */
export function renderDashboard(status: StatusSnapshot, options: { title: string; color: boolean; socketPath?: string | undefined }): string {
  const socket = options.socketPath ? `   vigil status --socket ${options.socketPath}` : '';
  return `${options.title} — ${status.clock.iso}  (Ctrl-C to stop)${socket}\n\n${renderStatus(status, { color: options.color })}`;
}

/**
 * Shows the live state until stopped: redrawn in place on a terminal, a snapshot every few seconds
 * otherwise (a log file or a pipe should not fill with escape codes).
 */
export function startLiveView(current: () => RunningAgent | undefined, options: LiveViewOptions): () => void {
  const tty = Boolean(options.out.isTTY);
  const refreshMs = options.refreshMs ?? (tty ? 1000 : 5000);
  // The oldest buffered record's time takes a read of the outbox: fetched beside the frame, shown on the next one.
  let oldestWallTs: number | null = null;
  const draw = (): void => {
    const agent = current();
    if (!agent) return;
    oldestWaitingWallTs(agent.uplink).then(
      (ts) => (oldestWallTs = ts),
      () => (oldestWallTs = null),
    );
    const frame = renderDashboard(buildStatus(agent, { oldestWallTs }), { title: options.title ?? agent.site.site.name, color: tty, socketPath: agent.api?.socketPath });
    options.out.write(tty ? `\x1b[H\x1b[2J${frame}\n` : `${frame}\n\n`);
  };
  const timer = setInterval(draw, refreshMs);
  const first = setTimeout(draw, Math.min(500, refreshMs));
  return () => {
    clearInterval(timer);
    clearTimeout(first);
  };
}
