import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../agent/bus/index.js';
import type { TransactionOutcome } from '../../drivers/modbus/outcome.js';
import {
  startSerialSimulator,
  startTcpSimulator,
  type RunningSimulator,
  type SimulatorOptions,
} from '../../drivers/simulator/index.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';
import {
  breakerSettings,
  connected,
  eventually,
  LEVEL_BLOCK,
  levelOf,
  line115200,
  makeBus,
  simDevice,
  transportOf,
  yieldToEventLoop,
} from './helpers.js';

const simOptions: SimulatorOptions = { devices: [simDevice(1)] };
const GOOD_ANSWER: TransactionOutcome = { ok: true, registers: [levelOf(1), 0] };

/** Keeps one read going at a time, like a poll loop, until stopped; collects every outcome. */
function pollLoop(bus: ModbusBus): { outcomes: TransactionOutcome[]; stop(): Promise<void> } {
  const outcomes: TransactionOutcome[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      outcomes.push(await bus.read('d', LEVEL_BLOCK, 'normal'));
      await yieldToEventLoop();
      if (!outcomes.at(-1)!.ok) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    outcomes,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('ModbusBus reconnects by itself', () => {
  let bus: ModbusBus | undefined;
  let sim: RunningSimulator | undefined;
  let pair: PtyPair | undefined;
  let tempDir: string | undefined;

  afterEach(async () => {
    await bus?.stop();
    await sim?.close();
    await pair?.stop();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    bus = sim = pair = tempDir = undefined;
  });

  it('after the USB adapter is unplugged and plugged back (pty pair restarted)', async () => {
    pair = await startPtyPair();
    sim = await startSerialSimulator({ ...simOptions, path: pair.b, line: line115200 });
    const running = (bus = makeBus({ kind: 'serial', path: pair.a, line: line115200 }));
    running.addDevice('d', { unit: 1, breaker: breakerSettings });
    const events: string[] = [];
    running.on('connected', () => events.push('connected')).on('disconnected', () => events.push('disconnected'));
    running.start();
    await connected(running);
    const loop = pollLoop(running);
    await eventually(() => loop.outcomes.filter((o) => o.ok).length >= 5, 'polls answered before the unplug');

    await pair.restart();
    const answeredBefore = loop.outcomes.length;
    await eventually(() => events.includes('disconnected'), 'the bus noticed the unplug');
    await eventually(() => events.filter((e) => e === 'connected').length === 2, 'the bus reconnected');
    await eventually(() => loop.outcomes.slice(answeredBefore).filter((o) => o.ok).length >= 5, 'polls answered again');
    await loop.stop();

    expect(events).toEqual(['connected', 'disconnected', 'connected']);
    const failures = loop.outcomes.filter((o) => !o.ok);
    const kinds = new Set(failures.map((o) => (o.ok ? 'ok' : o.failure)));
    expect(kinds.has('port-down')).toBe(true);
    // The simulated device reopens its end of the line every 100 ms: a request sent before it is back times out,
    // and on a loaded machine enough of them can open the device's breaker for a while.
    expect([...kinds].filter((kind) => !['port-down', 'timeout', 'breaker-open'].includes(kind))).toEqual([]);
    expect(loop.outcomes.filter((o) => o.ok).every((o) => JSON.stringify(o) === JSON.stringify(GOOD_ANSWER))).toBe(true);
    expect(running.counters()).toMatchObject({ connected: true, reconnects: 1, disconnects: 1 });
  });

  it('after the device server goes away and comes back on the same port (TCP)', async () => {
    sim = await startTcpSimulator(simOptions);
    const endpoint = sim.endpoint;
    if (endpoint.kind !== 'tcp') throw new Error('expected a TCP simulator');
    const running = (bus = makeBus(transportOf(endpoint)));
    running.addDevice('d', { unit: 1, breaker: breakerSettings });
    let disconnects = 0;
    running.on('disconnected', () => disconnects++);
    running.start();
    await connected(running);
    expect(await running.read('d', LEVEL_BLOCK, 'normal')).toEqual(GOOD_ANSWER);

    await sim.close();
    sim = undefined;
    await eventually(() => disconnects === 1, 'the bus noticed the server went away');
    // while down, reads fail at once with the reason
    const whileDown = await running.read('d', LEVEL_BLOCK, 'normal');
    expect(whileDown).toMatchObject({ ok: false, failure: 'port-down' });
    if (!whileDown.ok) expect(whileDown.detail).toContain(`${endpoint.host}:${endpoint.port}`);
    // let a few reconnect attempts fail against the closed port
    await sleep(300);
    expect(running.connected).toBe(false);

    sim = await startTcpSimulator({ ...simOptions, host: endpoint.host, port: endpoint.port });
    await connected(running);
    expect(await running.read('d', LEVEL_BLOCK, 'normal')).toEqual(GOOD_ANSWER);
    expect(running.counters()).toMatchObject({ reconnects: 1, disconnects: 1 });
  });

  it('when the port is missing at start and appears later', async () => {
    pair = await startPtyPair();
    tempDir = await mkdtemp(join(tmpdir(), 'vigil-bus-'));
    const path = join(tempDir, 'ttyUSB0');
    sim = await startSerialSimulator({ ...simOptions, path: pair.b, line: line115200 });
    const running = (bus = makeBus({ kind: 'serial', path, line: line115200 }));
    running.addDevice('d', { unit: 1, breaker: breakerSettings });
    running.start();
    expect(await running.read('d', LEVEL_BLOCK, 'normal')).toMatchObject({ ok: false, failure: 'port-down' });
    expect(running.connected).toBe(false);

    await symlink(pair.a, path);
    await connected(running);
    expect(await running.read('d', LEVEL_BLOCK, 'normal')).toEqual(GOOD_ANSWER);
    expect(running.counters().reconnects).toBe(0);
  });
});
