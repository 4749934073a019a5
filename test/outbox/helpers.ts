import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openOutbox, type Outbox, type OutboxEvent, type OutboxOptions, type OutboxRecord } from '../../agent/outbox/index.js';

/** The child-process helper runs from the build (npm test builds first). */
export const CHILD = fileURLToPath(new URL('../../dist/test/bench/outbox-child.js', import.meta.url));
if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: run "npm run build" first`);

const dirs: string[] = [];

export function tempDir(prefix = 'vigil-outbox-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function stamp(clockSynced = true, wallTs = Date.now()): { wallTs: number; monoTs: number; clockSynced: boolean } {
  return { wallTs, monoTs: performance.now(), clockSynced };
}

/** Opens an outbox and collects its events. */
export async function open(
  dir: string,
  options: Partial<OutboxOptions> = {},
): Promise<{ outbox: Outbox; events: OutboxEvent[] }> {
  const events: OutboxEvent[] = [];
  const outbox = await openOutbox({ dir, maxBytes: 64 * 1024 * 1024, onEvent: (e) => events.push(e), ...options });
  return { outbox, events };
}

/** Every unacked record, reading the way the uplink does: from the last seq returned, in pages. */
export async function readAll(outbox: Outbox, page = 1000, maxBytes = 1024 * 1024): Promise<OutboxRecord[]> {
  const out: OutboxRecord[] = [];
  let after = 0;
  for (;;) {
    const records = await outbox.read(after, page, maxBytes);
    if (records.length === 0) return out;
    for (const r of records) out.push(r);
    after = records[records.length - 1]!.seq;
  }
}

export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith('seg-') && n.endsWith('.log'))
    .sort();
}

/** Waits for a condition the code under test makes true by itself; the deadline only turns a hang into a failure. */
export async function eventually(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
