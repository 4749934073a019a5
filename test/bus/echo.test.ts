import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../agent/bus/index.js';
import { createLogger, type Logger } from '../../agent/log/index.js';
import { startSerialSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { breakerSettings, connected, LEVEL_BLOCK, levelOf, line115200, makeBus, simDevice, transportOf } from './helpers.js';

// A 2-wire RS-485 adapter without echo suppression hears its own transmission: every request comes back to
// the master before the answer. The answer to a single write (FC 5/6) repeats the request, so without the echo
// option the echo of a write to a dead device would pass for its confirmation — a relay believed switched.

const GOOD = 1;
const SILENT = 2;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A logger that keeps the messages of its warnings. */
function warningsLog(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { level: number; msg: string };
        if (entry.level === 40) warnings.push(entry.msg);
      }
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', pretty: false, destination }), warnings };
}

const ECHO_ONLY_WARNING = 'only our request came back: the device is silent, or the adapter does not echo — then set echo: false';

async function echoingLine(echoOption: boolean, logger?: Logger): Promise<{ bus: ModbusBus; sim: RunningSimulator }> {
  const pair: PtyPair = await startPtyPair();
  cleanups.push(() => pair.stop());
  const sim = await startSerialSimulator({
    path: pair.b,
    line: line115200,
    echo: true,
    devices: [simDevice(GOOD), simDevice(SILENT, { kind: 'silent' })],
  });
  cleanups.push(() => sim.close());
  const bus = makeBus(transportOf({ kind: 'serial', path: pair.a }), { timeoutMs: 150, retries: 0, echo: echoOption, ...(logger ? { logger } : {}) });
  for (const unit of [GOOD, SILENT]) bus.addDevice(`unit${unit}`, { unit, breaker: { ...breakerSettings, failures: 100 } });
  bus.start();
  cleanups.push(() => bus.stop());
  await connected(bus);
  return { bus, sim };
}

describe('RS-485 echo', () => {
  it('without the option, the echo of a write to a silent device passes for its confirmation (the hazard)', async () => {
    const { bus } = await echoingLine(false);
    expect(await bus.write(`unit${SILENT}`, { fn: 6, address: 1, value: 42 })).toEqual({ ok: true });
  });

  it('with the option, the echo is skipped: a silent device times out, a live one reads and writes as usual', async () => {
    const { logger, warnings } = warningsLog();
    const { bus, sim } = await echoingLine(true, logger);
    expect(await bus.write(`unit${SILENT}`, { fn: 6, address: 1, value: 42 })).toMatchObject({ ok: false, failure: 'timeout' });
    // Only our own request came back: counted, and said once (with both possible causes).
    expect(bus.counters().echoOnly).toBe(1);
    expect(await bus.read(`unit${SILENT}`, LEVEL_BLOCK, 'normal')).toMatchObject({ ok: false, failure: 'timeout' });
    expect(bus.counters().echoOnly).toBe(2);
    expect(warnings.filter((w) => w === ECHO_ONLY_WARNING)).toHaveLength(1);
    expect(await bus.read(`unit${GOOD}`, LEVEL_BLOCK, 'normal')).toEqual({ ok: true, registers: [levelOf(GOOD), 0] });
    expect(await bus.write(`unit${GOOD}`, { fn: 6, address: 1, value: 1234 })).toEqual({ ok: true });
    expect(sim.readHoldingRegister(GOOD, 1)).toBe(1234);
    expect(bus.counters().missingEchoes).toBe(0);
    expect(bus.counters().echoOnly).toBe(2);
  });

  it('with the option on a line that does not echo: reads work and count the missing echo; a single write fails visibly', async () => {
    const pair: PtyPair = await startPtyPair();
    cleanups.push(() => pair.stop());
    const sim = await startSerialSimulator({ path: pair.b, line: line115200, devices: [simDevice(GOOD)] });
    cleanups.push(() => sim.close());
    const { logger, warnings } = warningsLog();
    const bus = makeBus(transportOf({ kind: 'serial', path: pair.a }), { timeoutMs: 150, retries: 0, echo: true, logger });
    bus.addDevice(`unit${GOOD}`, { unit: GOOD, breaker: breakerSettings });
    bus.start();
    cleanups.push(() => bus.stop());
    await connected(bus);
    expect(await bus.read(`unit${GOOD}`, LEVEL_BLOCK, 'normal')).toEqual({ ok: true, registers: [levelOf(GOOD), 0] });
    expect(bus.counters().missingEchoes).toBe(1);
    expect(bus.counters().echoOnly).toBe(0);
    // The answer to FC 6 is byte for byte the request: it is taken for the echo, and the write is not confirmed.
    // Failing loudly is the safe side of a misconfigured line; the counter tells the technician why.
    expect(await bus.write(`unit${GOOD}`, { fn: 6, address: 1, value: 7 })).toMatchObject({ ok: false, failure: 'timeout' });
    expect(bus.counters().echoOnly).toBe(1);
    expect(bus.counters().missingEchoes).toBe(1);
    expect(warnings).toContain(ECHO_ONLY_WARNING);
  });
});
