import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../agent/bus/index.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { breakerSettings, connected, eventually, LEVEL_BLOCK, makeBus, simDevice, transportOf, yieldToEventLoop } from './helpers.js';

describe('ModbusBus says when its line is saturated', () => {
  let sim: RunningSimulator;
  let bus: ModbusBus;

  beforeEach(async () => {
    sim = await startTcpSimulator({ devices: [simDevice(1)] });
    bus = makeBus(transportOf(sim.endpoint), { timeoutMs: 500 });
    bus.addDevice('unit1', { unit: 1, breaker: breakerSettings });
    bus.start();
    await connected(bus);
  });

  afterEach(async () => {
    await bus.stop();
    await sim.close();
  });

  it('a poll loop running flat out saturates the line; after a pause the next request finds it with slack again', async () => {
    expect(bus.counters().saturated).toBe(false);
    let running = true;
    let polls = 0;
    // As the scheduler chains a zero-interval poll: the next request one event-loop turn after the answer.
    const loop = (async () => {
      while (running) {
        const outcome = await bus.read('unit1', LEVEL_BLOCK, 'normal');
        if (!outcome.ok) throw new Error(`poll failed: ${JSON.stringify(outcome)}`);
        polls++;
        await yieldToEventLoop();
      }
    })();
    let seenSaturated = false;
    await eventually(() => (seenSaturated ||= bus.counters().saturated), 'the line is reported saturated');
    running = false;
    await loop;
    expect(polls).toBeGreaterThan(10);
    expect(seenSaturated).toBe(true);
    // Idle: nothing to be saturated with.
    expect(bus.counters().saturated).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = bus.read('unit1', LEVEL_BLOCK, 'normal');
    expect(bus.counters().saturated).toBe(false);
    expect((await next).ok).toBe(true);
  });
});
