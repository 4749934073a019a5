import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startNotifySocket } from '../support/notify-socket.js';
import { until } from '../support/until.js';

// The watchdog is fed from the safety loop's liveness, which needs the field loop's readings: a stalled poll
// scheduler must stop the WATCHDOG=1 datagrams while the process and its event loop carry on, and a device
// that merely went silent must not (its timeouts are readings too). A real agent in a child process polls a
// simulated probe and talks to a real notify socket through the real transport (systemd-notify or socat).

const CHILD = fileURLToPath(new URL('../../dist/test/support/watchdog-child.js', import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('service watchdog fed from the safety loop', () => {
  it('is fed while the field loop cycles (also with a silent device) and stops being fed when the loop stalls', { timeout: 120_000 }, async () => {
    const notify = await startNotifySocket();
    cleanups.push(() => notify.close());
    const child = spawn(process.execPath, [CHILD], {
      // 1 s watchdog: fed every 500 ms.
      env: { ...process.env, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '1000000' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    const lines: string[] = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      lines.push(...parts);
    });
    const send = (line: string): void => void child.stdin.write(`${line}\n`);
    const lastLiveness = (): { alive: boolean; reason?: string } | undefined => {
      const line = lines.filter((l) => l.startsWith('liveness ')).at(-1);
      return line ? (JSON.parse(line.slice('liveness '.length)) as { alive: boolean; reason?: string }) : undefined;
    };

    await until(() => lines.includes('ready'), 20_000, 'agent ready');
    expect(notify.count('READY=1')).toBe(1);

    // Healthy: fed.
    const healthyFrom = notify.count('WATCHDOG=1');
    await until(() => notify.count('WATCHDOG=1') >= healthyFrom + 4, 15_000, 'watchdog fed while healthy');

    // The probe goes silent for longer than the stall threshold (15 s): timeouts keep the loop alive, still fed.
    send('silent');
    await sleep(17_000);
    const silentAt = notify.count('WATCHDOG=1');
    await until(() => notify.count('WATCHDOG=1') >= silentAt + 2, 10_000, 'watchdog still fed with a silent device');
    send('ping');
    await until(() => lastLiveness() !== undefined, 5000, 'liveness answer');
    expect(lastLiveness()!.alive).toBe(true);

    // The field loop stalls: once the safety loop says so, no more WATCHDOG=1, though the process answers.
    send('stall');
    let askedAt = 0;
    await until(
      () => {
        if (Date.now() - askedAt > 500) {
          askedAt = Date.now();
          send('ping');
        }
        return lastLiveness()?.alive === false;
      },
      40_000,
      'safety loop reports the stall',
    );
    expect(lastLiveness()!.reason).toMatch(/field loop is stalled/);
    await sleep(1000); // a ping already on its way may still land
    const stalledAt = notify.count('WATCHDOG=1');
    const pongsBefore = lines.filter((l) => l === 'pong').length;
    await sleep(3000); // six feeding intervals
    send('ping');
    await until(() => lines.filter((l) => l === 'pong').length > pongsBefore, 5000, 'event loop answers');
    expect(child.exitCode).toBeNull();
    expect(notify.count('WATCHDOG=1')).toBe(stalledAt);
    expect(notify.received.some((n) => n.fields.some((f) => f.startsWith('STATUS=not alive: no readings')))).toBe(true);

    send('quit');
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(notify.count('STOPPING=1')).toBe(1);
  });
});
