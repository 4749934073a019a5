import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../agent/bus/index.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { breakerSettings, connected, LEVEL_BLOCK, levelOf, makeBus, simDevice, transportOf } from './helpers.js';

/** One device per failure kind, each on its own unit. */
const GOOD = 1;
const EXCEPTION = 2;
const CRC = 3;
const GARBAGE = 4;
const SILENT = 5;

describe('ModbusBus outcome classification (TCP simulator)', () => {
  let sim: RunningSimulator;
  let bus: ModbusBus;

  beforeEach(async () => {
    sim = await startTcpSimulator({
      devices: [
        simDevice(GOOD),
        simDevice(EXCEPTION, { kind: 'exception', code: 2 }),
        simDevice(CRC, { kind: 'crc' }),
        simDevice(GARBAGE, { kind: 'garbage', length: 24 }),
        simDevice(SILENT, { kind: 'silent' }),
      ],
    });
    bus = makeBus(transportOf(sim.endpoint), { timeoutMs: 150, retries: 2 });
    for (const unit of [GOOD, EXCEPTION, CRC, GARBAGE, SILENT]) {
      bus.addDevice(`unit${unit}`, { unit, breaker: { ...breakerSettings, failures: 100 } });
    }
    bus.start();
    await connected(bus);
  });

  afterEach(async () => {
    await bus.stop();
    await sim.close();
  });

  it('a good answer carries the registers and bits the device holds', async () => {
    expect(await bus.read(`unit${GOOD}`, LEVEL_BLOCK, 'normal')).toEqual({ ok: true, registers: [levelOf(GOOD), 0] });
    expect(await bus.read(`unit${GOOD}`, { fn: 1, address: 0, count: 2 }, 'normal')).toEqual({ ok: true, bits: [false, false] });
    const counters = bus.deviceCounters(`unit${GOOD}`);
    expect(counters).toMatchObject({ requests: 2, ok: 2, timeouts: 0, retries: 0 });
    expect(counters.latency.maxMs).toBeGreaterThan(0);
  });

  it('an exception is reported with its code and name, and never retried', async () => {
    expect(await bus.read(`unit${EXCEPTION}`, LEVEL_BLOCK, 'normal')).toEqual({
      ok: false,
      failure: 'exception',
      exceptionCode: 2,
      detail: 'Modbus exception 2 (illegal data address)',
    });
    expect(sim.stats().perUnit[EXCEPTION]).toBe(1);
    expect(bus.deviceCounters(`unit${EXCEPTION}`)).toMatchObject({ exceptions: 1, retries: 0 });
  });

  it('a read outside the device map gets the device’s own exception', async () => {
    const outcome = await bus.read(`unit${GOOD}`, { fn: 3, address: 50, count: 1 }, 'normal');
    expect(outcome).toMatchObject({ ok: false, failure: 'exception', exceptionCode: 2 });
  });

  it('a corrupted answer is a CRC failure, retried on reads (1 + retries requests on the wire)', async () => {
    const outcome = await bus.read(`unit${CRC}`, LEVEL_BLOCK, 'normal');
    expect(outcome).toMatchObject({ ok: false, failure: 'crc' });
    expect(sim.stats().perUnit[CRC]).toBe(3);
    expect(bus.deviceCounters(`unit${CRC}`)).toMatchObject({ requests: 3, crcErrors: 3, retries: 2 });
  });

  it('garbage instead of an answer is a framing failure', async () => {
    const outcome = await bus.read(`unit${GARBAGE}`, LEVEL_BLOCK, 'normal');
    expect(outcome).toMatchObject({ ok: false, failure: 'framing' });
    expect(sim.stats().perUnit[GARBAGE]).toBe(3);
    expect(bus.deviceCounters(`unit${GARBAGE}`).framingErrors).toBe(3);
    expect(bus.counters().noiseBytes).toBeGreaterThanOrEqual(3 * 24);
  });

  it('no answer is a timeout that says so', async () => {
    const outcome = await bus.read(`unit${SILENT}`, LEVEL_BLOCK, 'normal');
    expect(outcome).toEqual({ ok: false, failure: 'timeout', detail: 'no answer within 150 ms' });
    expect(sim.stats().perUnit[SILENT]).toBe(3);
  });

  it('a write to a silent device is attempted exactly once, whatever the retries', async () => {
    const outcome = await bus.write(`unit${SILENT}`, { fn: 6, address: 1, value: 42 });
    expect(outcome).toMatchObject({ ok: false, failure: 'timeout' });
    expect(sim.stats().perUnit[SILENT]).toBe(1);
    expect(bus.deviceCounters(`unit${SILENT}`)).toMatchObject({ requests: 1, retries: 0, timeouts: 1 });
  });

  it('a write lands on the device and is confirmed by its echo', async () => {
    expect(await bus.write(`unit${GOOD}`, { fn: 6, address: 1, value: 1234 })).toEqual({ ok: true });
    expect(sim.readHoldingRegister(GOOD, 1)).toBe(1234);
    expect(await bus.write(`unit${GOOD}`, { fn: 15, address: 0, values: [true, true] })).toEqual({ ok: true });
    expect(await bus.write(`unit${GOOD}`, { fn: 5, address: 0, value: false })).toEqual({ ok: true });
    expect([sim.readCoil(GOOD, 0), sim.readCoil(GOOD, 1)]).toEqual([false, true]);
    expect(await bus.read(`unit${GOOD}`, LEVEL_BLOCK, 'normal')).toEqual({ ok: true, registers: [levelOf(GOOD), 1234] });
  });

  it('a request the device could never accept is refused without wire time; an unknown device is an outcome too', async () => {
    const before = sim.stats().requests;
    expect(await bus.read(`unit${GOOD}`, { fn: 3, address: 0, count: 126 }, 'normal')).toMatchObject({
      ok: false,
      failure: 'exception',
      exceptionCode: 3,
    });
    expect(await bus.read('nobody', LEVEL_BLOCK, 'normal')).toMatchObject({ ok: false, failure: 'port-down' });
    expect(sim.stats().requests).toBe(before);
  });
});
