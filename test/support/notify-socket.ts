import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './until.js';

// Beside this file in the sources; the compiled copy (dist/test/support) looks there too.
const SCRIPT = fileURLToPath(new URL('./notify-socket.py', import.meta.url).href.replace('/dist/test/', '/test/'));

export interface Notification {
  fields: string[];
  /** Date.now() when it arrived. */
  at: number;
}

/** A listening notify socket (what systemd gives a Type=notify service as NOTIFY_SOCKET), recording every message. */
export interface NotifySocket {
  readonly path: string;
  readonly received: Notification[];
  /** Messages holding this assignment, e.g. "WATCHDOG=1". */
  count(assignment: string): number;
  close(): Promise<void>;
}

export async function startNotifySocket(): Promise<NotifySocket> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-notify-'));
  const path = join(dir, 'notify');
  const received: Notification[] = [];
  const child: ChildProcess = spawn('python3', [SCRIPT, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let listening = false;
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line === 'listening') listening = true;
      else if (line.startsWith('{')) received.push({ fields: (JSON.parse(line) as { fields: string[] }).fields, at: Date.now() });
    }
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  await until(() => listening || exited, 10_000, 'notify socket listening');
  if (!listening) throw new Error('python3 notify socket did not start (is python3 installed?)');
  return {
    path,
    received,
    count: (assignment) => received.filter((n) => n.fields.includes(assignment)).length,
    async close() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
