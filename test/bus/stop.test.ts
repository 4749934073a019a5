import { afterEach, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../agent/bus/index.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { breakerSettings, connected, eventually, LEVEL_BLOCK, makeBus, simDevice, transportOf } from './helpers.js';

describe('ModbusBus.stop', () => {
  let sim: RunningSimulator | undefined;
  let bus: ModbusBus | undefined;

  afterEach(async () => {
    await bus?.stop();
    await sim?.close();
    sim = bus = undefined;
  });

  it('resolves the job on the wire and every queued job as port-down, and refuses new ones', async () => {
    sim = await startTcpSimulator({ devices: [simDevice(1, { kind: 'slow', delayMs: 2000 }), simDevice(2)] });
    const running = (bus = makeBus(transportOf(sim.endpoint), { timeoutMs: 5000 }));
    running.addDevice('slow', { unit: 1, breaker: breakerSettings });
    running.addDevice('fast', { unit: 2, breaker: breakerSettings });
    let disconnected = 0;
    running.on('disconnected', () => disconnected++);
    running.start();
    await connected(running);

    const onWire = running.read('slow', LEVEL_BLOCK, 'normal');
    await eventually(() => sim!.stats().perUnit[1] === 1, 'the slow read reached the device');
    const queued = [
      running.read('fast', LEVEL_BLOCK, 'low'),
      running.read('fast', LEVEL_BLOCK, 'critical'),
      running.write('fast', { fn: 6, address: 1, value: 1 }),
    ];
    await running.stop();
    for (const outcome of await Promise.all([onWire, ...queued])) {
      expect(outcome).toEqual({ ok: false, failure: 'port-down', detail: 'bus stopped' });
    }
    expect(running.connected).toBe(false);
    expect(disconnected).toBe(1);
    expect(await running.read('fast', LEVEL_BLOCK, 'normal')).toMatchObject({ failure: 'port-down' });
    expect(sim.stats().perUnit[2]).toBeUndefined();
    expect(running.deviceCounters('fast').portDown).toBe(4);
  });

  it('stops a bus that never got its port, and polls issued at start wait for the first open', async () => {
    sim = await startTcpSimulator({ devices: [simDevice(1)] });
    const running = (bus = makeBus(transportOf(sim.endpoint)));
    running.addDevice('d', { unit: 1, breaker: breakerSettings });
    running.start();
    // issued before the connection is up: carried over the first open rather than failed
    expect(await running.read('d', LEVEL_BLOCK, 'critical')).toMatchObject({ ok: true });
    await running.stop();

    const nowhere = (bus = makeBus({ kind: 'serial', path: '/nonexistent/vigil-tty', line: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 } }));
    nowhere.addDevice('d', { unit: 1, breaker: breakerSettings });
    expect(() => nowhere.start()).not.toThrow();
    expect(await nowhere.read('d', LEVEL_BLOCK, 'normal')).toMatchObject({ ok: false, failure: 'port-down' });
    await nowhere.stop();
    expect(nowhere.connected).toBe(false);
  });
});
