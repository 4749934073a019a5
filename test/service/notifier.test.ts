import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/log/index.js';
import {
  ServiceNotifier,
  findExecutable,
  serviceEnvironment,
  socatNotifyTransport,
  startServiceLink,
  systemdNotifyTransport,
  type NotifyTransport,
} from '../../agent/service/index.js';
import type { SafetyLiveness } from '../../agent/safety/index.js';
import { startNotifySocket, type NotifySocket } from '../support/notify-socket.js';
import { until } from '../support/until.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function socket(): Promise<NotifySocket> {
  const s = await startNotifySocket();
  cleanups.push(() => s.close());
  return s;
}

const systemdNotify = findExecutable('systemd-notify');
if (!systemdNotify) console.log('systemd-notify is not installed here: its transport test is skipped (the socat one still runs)');

describe('service environment', () => {
  it('reads NOTIFY_SOCKET and feeds at half of WATCHDOG_USEC, only when the watchdog is meant for this process', () => {
    expect(serviceEnvironment({})).toBeUndefined();
    expect(serviceEnvironment({ NOTIFY_SOCKET: 'relative/path' })).toBeUndefined();
    expect(serviceEnvironment({ NOTIFY_SOCKET: '/run/systemd/notify' })).toEqual({ socket: '/run/systemd/notify', watchdogIntervalMs: undefined });
    expect(serviceEnvironment({ NOTIFY_SOCKET: '@abstract', WATCHDOG_USEC: '30000000' }, 42)).toEqual({ socket: '@abstract', watchdogIntervalMs: 15_000 });
    expect(serviceEnvironment({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)?.watchdogIntervalMs).toBe(15_000);
    expect(serviceEnvironment({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42)?.watchdogIntervalMs).toBeUndefined();
    expect(serviceEnvironment({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: 'soon' }, 42)?.watchdogIntervalMs).toBeUndefined();
  });
});

describe('transports deliver real datagrams to a notify socket', () => {
  it.skipIf(!systemdNotify)('systemd-notify: one datagram with every assignment, and it waits for the manager (barrier)', async () => {
    const notify = await socket();
    const transport = systemdNotifyTransport(notify.path);
    await transport.send(['READY=1', 'STATUS=running: 3 devices']);
    await until(() => notify.received.length >= 1, 5000, 'datagram');
    expect(notify.received[0]!.fields).toEqual(['READY=1', 'STATUS=running: 3 devices']);
    // The barrier round trip completed (the socket closed the passed descriptor), so send() resolved.
    await until(() => notify.count('BARRIER=1') === 1, 5000, 'barrier');
  });

  it('socat: one datagram with every assignment', async () => {
    const notify = await socket();
    const transport = socatNotifyTransport(notify.path);
    await transport.send(['STOPPING=1', 'STATUS=stopping: SIGTERM']);
    await until(() => notify.received.length >= 1, 5000, 'datagram');
    expect(notify.received[0]!.fields).toEqual(['STOPPING=1', 'STATUS=stopping: SIGTERM']);
  });

  it('a socket nobody listens on: the send fails, the notifier reports false and does not throw', async () => {
    const dead = systemdNotify ? systemdNotifyTransport('/nonexistent/notify') : socatNotifyTransport('/nonexistent/notify');
    await expect(dead.send(['WATCHDOG=1'])).rejects.toThrow();
    const notifier = new ServiceNotifier(dead, silentLogger());
    expect(await notifier.watchdog()).toBe(false);
    expect(await notifier.ready('x')).toBe(false);
  });
});

describe('service link', () => {
  function memoryTransport(): NotifyTransport & { sent: string[][] } {
    const sent: string[][] = [];
    return { name: 'memory', sent, send: async (assignments) => void sent.push([...assignments]) };
  }

  it('does nothing without NOTIFY_SOCKET', () => {
    expect(startServiceLink({ env: {}, logger: silentLogger(), liveness: () => undefined, summary: () => '' })).toBeUndefined();
  });

  it('READY=1 only once the safety loop ticks and readings reached it; STOPPING=1 when asked', async () => {
    const transport = memoryTransport();
    let liveness: SafetyLiveness = { alive: true, lastReadingsMonoTs: null, lastTickMonoTs: null };
    const link = startServiceLink({
      env: { NOTIFY_SOCKET: '/run/test' },
      logger: silentLogger(),
      liveness: () => liveness,
      summary: () => '1 device',
      transport,
      checkEveryMs: 10,
    })!;
    cleanups.push(() => link.close());
    let ready = false;
    void link.ready.then(() => (ready = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ready).toBe(false);
    expect(transport.sent).toEqual([]);
    liveness = { ...liveness, lastReadingsMonoTs: 5 };
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ready).toBe(false); // readings, but the safety timers have not run yet
    liveness = { ...liveness, lastTickMonoTs: 6 };
    await link.ready;
    expect(transport.sent).toEqual([['READY=1', 'STATUS=running: 1 device']]);
    await link.stopping('SIGTERM');
    expect(transport.sent.at(-1)).toEqual(['STOPPING=1', 'STATUS=stopping: SIGTERM']);
  });
});
