import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../agent/bus/index.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { connected, eventually, LEVEL_BLOCK, levelOf, makeBus, simDevice, transportOf } from './helpers.js';

const DEAD = 7;
const breaker = { failures: 3, minBackoff: 600, maxBackoff: 1200 };

describe('per-device breaker, counted at the device', () => {
  let sim: RunningSimulator;
  let bus: ModbusBus;
  const wireRequests = (): number => sim.stats().perUnit[DEAD] ?? 0;
  const readDead = () => bus.read('dead', LEVEL_BLOCK, 'normal');

  beforeEach(async () => {
    sim = await startTcpSimulator({ devices: [simDevice(DEAD, { kind: 'silent' })] });
    bus = makeBus(transportOf(sim.endpoint), { timeoutMs: 50, retries: 1 });
    bus.addDevice('dead', { unit: DEAD, breaker });
    bus.start();
    await connected(bus);
  });

  afterEach(async () => {
    await bus.stop();
    await sim.close();
  });

  it('opens after 3 failed reads, refuses reads without wire time, probes once per back-off, closes on an answer', async () => {
    for (let i = 0; i < 3; i++) expect(await readDead()).toMatchObject({ ok: false, failure: 'timeout' });
    // 3 reads × (1 + 1 retry)
    expect(wireRequests()).toBe(6);
    expect(bus.deviceCounters('dead').breaker).toMatchObject({ state: 'open', backoffMs: 600 });

    for (let i = 0; i < 50; i++) {
      const outcome = await readDead();
      expect(outcome).toMatchObject({ ok: false, failure: 'breaker-open' });
      if (!outcome.ok) expect(outcome.detail).toMatch(/^device not answering; next try in \d+ ms$/);
    }
    expect(wireRequests()).toBe(6);
    expect(bus.deviceCounters('dead').breakerRejections).toBe(50);

    // After the back-off: one probe, never retried; its failure doubles the back-off.
    await eventually(() => bus.deviceCounters('dead').breaker.nextTryInMs === 0, 'back-off over');
    const [probe, besideProbe] = await Promise.all([readDead(), readDead()]);
    expect(probe).toMatchObject({ failure: 'timeout' });
    expect(besideProbe).toMatchObject({ failure: 'breaker-open' });
    expect(wireRequests()).toBe(7);
    expect(bus.deviceCounters('dead').breaker).toMatchObject({ state: 'open', backoffMs: 1200 });

    // A write is still attempted (once) while the breaker is open.
    expect(await bus.write('dead', { fn: 6, address: 1, value: 5 })).toMatchObject({ failure: 'timeout' });
    expect(wireRequests()).toBe(8);

    sim.setFault(DEAD, null);
    await eventually(() => bus.deviceCounters('dead').breaker.nextTryInMs === 0, 'back-off over');
    expect(await readDead()).toEqual({ ok: true, registers: [levelOf(DEAD), 0] });
    expect(bus.deviceCounters('dead').breaker).toMatchObject({ state: 'closed', backoffMs: 600, consecutiveFailures: 0 });
    for (let i = 0; i < 5; i++) expect((await readDead()).ok).toBe(true);
    expect(wireRequests()).toBe(14);
  });
});
