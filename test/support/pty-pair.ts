/**
 * A pair of connected pseudo-terminals made by socat: what one end writes, the other reads. Tests use it in
 * place of an RS-485 adapter pair. The ends are stable symlinks in a temp dir, so `restart()` (kill socat and
 * start it again) looks to the code under test like a USB adapter being unplugged and plugged back in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Path of one end (a symlink to a /dev/pts/N). */
  readonly a: string;
  /** Path of the other end. */
  readonly b: string;
  /** Kills socat and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Kills socat and starts it again with the same link paths (the /dev/pts numbers change). */
  restart(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** socat processes still alive, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

function launch(a: string, b: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(deadline);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else {
        resolve(child);
      }
    };
    // socat announces the transfer loop only after both ptys and links exist; checking the links as well
    // guards against a socat build that words its log differently.
    let loopStarted = false;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('starting data transfer loop')) loopStarted = true;
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      finish(
        error.code === 'ENOENT'
          ? new Error('socat is not installed: install socat (apt-get install -y socat) to run the serial tests')
          : error,
      );
    });
    child.once('exit', (code, signal) => {
      live.delete(child);
      finish(new Error(`socat exited before the pty pair was ready (code ${code}, signal ${signal}): ${stderr.trim()}`));
    });
    live.add(child);
    const poll = setInterval(() => {
      if (loopStarted && existsSync(a) && existsSync(b)) finish(null);
    }, 5);
    const deadline = setTimeout(
      () => finish(new Error(`socat did not create ${a} and ${b} within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`)),
      START_TIMEOUT_MS,
    );
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    live.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(force);
      live.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startPtyPair(): Promise<PtyPair> {
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), 'vigil-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  let child: ChildProcess | null;
  try {
    child = await launch(a, b);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;

  const removeLinks = async (): Promise<void> => {
    // socat unlinks its links on a clean exit, but not when killed hard: never let a stale link look ready.
    await rm(a, { force: true });
    await rm(b, { force: true });
  };

  return {
    a,
    b,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child) await terminate(child);
      child = null;
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new Error('pty pair is stopped');
      if (child) await terminate(child);
      child = null;
      await removeLinks();
      child = await launch(a, b);
    },
  };
}
