import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../agent/bus/index.js';
import {
  startSerialSimulator,
  startTcpSimulator,
  type RunningSimulator,
  type SimulatorOptions,
} from '../../drivers/simulator/index.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';
import {
  connected,
  LEVEL_BLOCK,
  levelOf,
  line115200,
  makeBus,
  simDevice,
  transportOf,
  yieldToEventLoop,
} from './helpers.js';

const GOOD = [1, 2] as const;
const SILENT = 3;
const GARBAGE = 4;
const SLOW = 5;
const BAD = [SILENT, GARBAGE, SLOW] as const;
const TIMEOUT_MS = 30;
const WINDOW_MS = 600;
const ROUNDS = 3;

const simOptions: SimulatorOptions = {
  devices: [
    simDevice(1),
    simDevice(2),
    simDevice(SILENT, { kind: 'silent' }),
    simDevice(GARBAGE, { kind: 'garbage', length: 16 }),
    // answers, but long after the master gave up: its late answers land in other devices' transactions
    simDevice(SLOW, { kind: 'slow', delayMs: 3 * TIMEOUT_MS }),
  ],
};

interface PollTally {
  ok: number;
  wrongValues: number;
}

function addTally(sum: PollTally, part: PollTally): void {
  sum.ok += part.ok;
  sum.wrongValues += part.wrongValues;
}

/** Polls each device back to back for `windowMs`; counts the good devices' valid answers. */
async function pollFor(bus: ModbusBus, units: readonly number[], windowMs: number): Promise<PollTally> {
  const tally: PollTally = { ok: 0, wrongValues: 0 };
  const until = Date.now() + windowMs;
  await Promise.all(
    units.map(async (unit) => {
      while (Date.now() < until) {
        const outcome = await bus.read(`unit${unit}`, LEVEL_BLOCK, 'normal');
        if ((GOOD as readonly number[]).includes(unit) && outcome.ok) {
          tally.ok++;
          if (outcome.registers?.[0] !== levelOf(unit)) tally.wrongValues++;
        }
        // An open breaker answers at once; a real scheduler would not ask again before the next interval.
        if (!outcome.ok && outcome.failure === 'breaker-open') await sleep(5);
        else await yieldToEventLoop();
      }
    }),
  );
  return tally;
}

async function goodDevicesKeepAnswering(bus: ModbusBus, sim: RunningSimulator): Promise<void> {
  for (const unit of [...GOOD, ...BAD]) {
    bus.addDevice(`unit${unit}`, { unit, breaker: { failures: 2, minBackoff: 1000, maxBackoff: 4000 } });
  }
  bus.start();
  await connected(bus);

  // Alternate short windows, so a burst of load on the test machine hits both sides alike.
  const alone: PollTally = { ok: 0, wrongValues: 0 };
  const withBad: PollTally = { ok: 0, wrongValues: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    addTally(alone, await pollFor(bus, GOOD, WINDOW_MS));
    addTally(withBad, await pollFor(bus, [...GOOD, ...BAD], WINDOW_MS));
  }

  expect(alone.ok).toBeGreaterThan(20);
  expect(alone.wrongValues).toBe(0);
  expect(withBad.wrongValues).toBe(0);
  // Same window, same machine, side by side: the bad devices may cost the good ones, but not half of their polls.
  expect(withBad.ok / alone.ok).toBeGreaterThanOrEqual(0.5);

  // The bad devices were asked, and fenced off by their breakers rather than polled at full rate.
  const stats = sim.stats();
  for (const unit of BAD) {
    expect(stats.perUnit[unit]).toBeGreaterThanOrEqual(2);
    expect(bus.deviceCounters(`unit${unit}`).breakerRejections).toBeGreaterThan(0);
  }
  // Late answers of the slow device land in the silent device's transactions: still a timeout, not noise.
  expect(bus.deviceCounters(`unit${SILENT}`)).toMatchObject({ framingErrors: 0, crcErrors: 0 });
  expect(bus.deviceCounters(`unit${SILENT}`).timeouts).toBeGreaterThan(0);
  expect(bus.deviceCounters(`unit${GARBAGE}`).framingErrors).toBeGreaterThan(0);
  expect(bus.deviceCounters(`unit${SLOW}`).timeouts).toBeGreaterThan(0);
  for (const unit of GOOD) expect(bus.deviceCounters(`unit${unit}`).breaker.state).toBe('closed');
  // Garbage and the slow device's late answers arrived; they were discarded as noise, not taken as answers.
  await sleep(4 * TIMEOUT_MS);
  expect(bus.counters().noiseBytes).toBeGreaterThan(0);
}

describe('several slaves on one bus, one silent, one spewing garbage, one slow', () => {
  let sim: RunningSimulator | undefined;
  let bus: ModbusBus | undefined;
  let pair: PtyPair | undefined;

  afterEach(async () => {
    await bus?.stop();
    await sim?.close();
    await pair?.stop();
    bus = sim = pair = undefined;
  });

  it('over TCP: the good devices keep getting right answers', async () => {
    sim = await startTcpSimulator(simOptions);
    bus = makeBus(transportOf(sim.endpoint), { timeoutMs: TIMEOUT_MS, retries: 1 });
    await goodDevicesKeepAnswering(bus, sim);
  });

  it('over a serial line (socat pty): the good devices keep getting right answers', async () => {
    pair = await startPtyPair();
    sim = await startSerialSimulator({ ...simOptions, path: pair.b, line: line115200 });
    bus = makeBus({ kind: 'serial', path: pair.a, line: line115200 }, { timeoutMs: TIMEOUT_MS, retries: 1 });
    await goodDevicesKeepAnswering(bus, sim);
  });
});
