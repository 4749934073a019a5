import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../agent/bus/index.js';
import type { TransactionOutcome } from '../../drivers/modbus/outcome.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { breakerSettings, connected, eventually, LEVEL_BLOCK, makeBus, simDevice, transportOf } from './helpers.js';

/** Answers, slowly: a request to it is surely still on the wire while the test queues the next jobs. */
const SLOW = 3;

describe('ModbusBus queue order', () => {
  let sim: RunningSimulator;
  let bus: ModbusBus;

  beforeEach(async () => {
    sim = await startTcpSimulator({ devices: [simDevice(1), simDevice(2), simDevice(SLOW, { kind: 'slow', delayMs: 150 })] });
    bus = makeBus(transportOf(sim.endpoint), { timeoutMs: 500 });
    bus.addDevice('unit1', { unit: 1, breaker: breakerSettings });
    bus.addDevice('unit2', { unit: 2, breaker: breakerSettings });
    bus.addDevice('slow', { unit: SLOW, breaker: breakerSettings });
    bus.start();
    await connected(bus);
  });

  afterEach(async () => {
    await bus.stop();
    await sim.close();
  });

  /** Starts a read of the slow device and waits until the simulator has it: the wire is busy from then on. */
  async function occupyTheWire(order: string[]): Promise<Promise<TransactionOutcome>> {
    const inFlight = track(order, 'on the wire', bus.read('slow', LEVEL_BLOCK, 'low'));
    await eventually(() => sim.stats().perUnit[SLOW] === 1, 'the slow read reached the device');
    return inFlight;
  }

  /** Records the order in which jobs complete: with one transaction in flight at a time, that is the wire order. */
  function track(order: string[], name: string, job: Promise<TransactionOutcome>): Promise<TransactionOutcome> {
    return job.then((outcome) => {
      order.push(name);
      return outcome;
    });
  }

  it('a write goes ahead of every queued poll, right after the one on the wire', async () => {
    const order: string[] = [];
    const inFlight = await occupyTheWire(order);
    const polls = Array.from({ length: 20 }, (_, i) =>
      track(order, `poll${i}`, bus.read(i % 2 === 0 ? 'unit1' : 'unit2', LEVEL_BLOCK, 'critical')),
    );
    const write = track(order, 'write', bus.write('unit2', { fn: 6, address: 1, value: 777 }));
    expect(bus.counters().queueDepth).toBe(21);
    const outcomes = await Promise.all([...polls, write, inFlight]);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(order).toEqual(['on the wire', 'write', ...Array.from({ length: 20 }, (_, i) => `poll${i}`)]);
    expect(sim.readHoldingRegister(2, 1)).toBe(777);
    // Polls queued after the write was accepted see what it wrote.
    expect(outcomes[19]).toEqual({ ok: true, registers: [1002, 777] });
  });

  it('critical before normal before low, first come first served within each', async () => {
    const order: string[] = [];
    const jobs = [
      await occupyTheWire(order),
      track(order, 'low1', bus.read('unit1', LEVEL_BLOCK, 'low')),
      track(order, 'normal1', bus.read('unit2', LEVEL_BLOCK, 'normal')),
      track(order, 'critical1', bus.read('unit1', LEVEL_BLOCK, 'critical')),
      track(order, 'low2', bus.read('unit2', LEVEL_BLOCK, 'low')),
      track(order, 'critical2', bus.read('unit2', LEVEL_BLOCK, 'critical')),
      track(order, 'normal2', bus.read('unit1', LEVEL_BLOCK, 'normal')),
      track(order, 'write', bus.write('unit1', { fn: 5, address: 0, value: true })),
    ];
    await Promise.all(jobs);
    expect(order).toEqual(['on the wire', 'write', 'critical1', 'critical2', 'normal1', 'normal2', 'low1', 'low2']);
    expect(sim.readCoil(1, 0)).toBe(true);
  });

  it('exactly one transaction is on the wire at a time: every concurrent read gets its own unit’s answer', async () => {
    const reads = Array.from({ length: 60 }, (_, i) => {
      const unit = (i % 2) + 1;
      return bus.read(`unit${unit}`, { fn: 3, address: 0, count: 1 + (i % 2) }, 'normal').then((outcome) => ({ unit, outcome }));
    });
    for (const { unit, outcome } of await Promise.all(reads)) {
      expect(outcome).toEqual({ ok: true, registers: unit === 1 ? [1001] : [1002, 0] });
    }
    expect(sim.stats().requests).toBe(60);
    expect(bus.counters()).toMatchObject({ transactions: 60, noiseBytes: 0, queueDepth: 0 });
  });
});
