import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../support/broker.js';

/**
 * Mosquitto for the fleet benchmark and the soak, with what test/support/broker.ts does not give: connection
 * messages with timestamps in a log file (the connect rate the broker saw), and persistence, so a subscriber's
 * session (its subscription and the messages queued for it) survives a restart. Stops are clean (SIGTERM:
 * the sessions are written); stall() freezes it (SIGSTOP) until resume().
 */
export interface Mosquitto {
  url: string;
  logFile: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Brokers still running, killed if this process exits without stopping them (a failed run leaves none behind). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Debian puts it in /usr/sbin, which a non-root PATH may lack. */
const binary = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((path) => existsSync(path)) ?? 'mosquitto';

export async function startMosquitto(dir: string): Promise<Mosquitto> {
  const port = await freePort();
  const logFile = join(dir, 'mosquitto.log');
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 0',
      'max_inflight_messages 100',
      `log_dest file ${logFile}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'connection_messages true',
      'log_timestamp true',
      '',
    ].join('\n'),
  );
  // Started as root, mosquitto drops to its own user: it must be able to write its folder.
  chmodSync(dir, 0o777);
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn(binary, ['-c', config], { stdio: 'ignore' });
    child = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    for (let i = 0; i < 400; i++) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}; see ${logFile}`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = tcpConnect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
      if (open) return;
      await sleep(25);
    }
    throw new Error('mosquitto did not listen');
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  // Started as root, mosquitto drops to its own user. If that user cannot reach the folder (a parent made by
  // mkdtemp is 0700), it runs on without its log and without persistence: every restart would then silently
  // drop the sessions and the messages queued for them, which a test would take for losses of the client.
  if (!existsSync(logFile)) {
    await stop();
    throw new Error(`mosquitto cannot write its folder ${dir} (its own user must be able to reach it): no log, no persistence`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    logFile,
    start,
    stop,
    stall: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    close: stop,
  };
}
