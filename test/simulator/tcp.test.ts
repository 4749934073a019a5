import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest, withCrc } from '../../drivers/modbus/rtu.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { shippedProfile, wideTypes } from './profiles.js';
import { tcpMaster, type RtuMaster } from './rtu-master.js';

/** Long enough for any answer on a busy machine; used only to establish that no answer came. */
const NO_ANSWER_MS = 200;

describe('simulator over TCP: several devices on one line', () => {
  let sim: RunningSimulator;
  let master: RtuMaster;
  /** The simulator's clock started between these two instants. */
  let startBefore: number;
  let startAfter: number;

  beforeAll(async () => {
    const gas = shippedProfile('gas-module-10reg');
    startBefore = performance.now();
    sim = await startTcpSimulator({
      devices: [
        { unit: 1, profile: gas, values: { concentration: { constant: 12.5 } } },
        {
          unit: 2,
          profile: gas,
          // %LEL without decimals, announced by the module itself
          values: { unit_code: { constant: 0x2000 }, concentration: { steps: [[0, 18], [400, 33]] } },
        },
        { unit: 3, profile: shippedProfile('gas-status-word'), values: { concentration: { constant: 250 } } },
        { unit: 4, profile: shippedProfile('crack-drawwire-s16'), values: { displacement: { constant: -4.5 } } },
        { unit: 5, profile: shippedProfile('relay-board-8ch'), values: { input_2: { constant: 1 } } },
        { unit: 6, profile: shippedProfile('vw-converter'), values: { frequency: { constant: 2500.3 }, temperature: { constant: -3.2 } } },
        { unit: 7, profile: wideTypes, values: { f_cdab: { constant: -2.5 }, u_abcd: { constant: 0x01020304 } } },
        { unit: 8, profile: shippedProfile('jxbs-3001-gas'), values: { concentration: { constant: 3.7 } } },
      ],
    });
    startAfter = performance.now();
    if (sim.endpoint.kind !== 'tcp') throw new Error('expected a TCP endpoint');
    master = await tcpMaster(sim.endpoint.host, sim.endpoint.port);
  });

  afterAll(async () => {
    await master?.close();
    await sim?.close();
  });

  it('serves each unit its own profile and values', async () => {
    // unit 1: ppm with one decimal (0x0400), 12.5 → 125, defaults for the rest, status ok (1)
    expect(await master.readRegisters(1, 0, 10)).toEqual([0x0400, 125, 200, 500, 1000, 1, 0, 700, 0, 500]);
    // unit 2: the scripted unit_code fixes %LEL and 0 decimals for concentration and setpoints alike
    const unit2 = await master.readRegisters(2, 0, 5);
    expect(unit2[0]).toBe(0x2000);
    expect(unit2.slice(2)).toEqual([20, 50, 100]);
    expect(await master.readRegisters(3, 0x6000, 7)).toEqual([0x8000, 250, 0, 0, 0, 0, 1]);
    expect(await master.readRegisters(4, 0, 1)).toEqual([(-45) & 0xffff]);
    expect(await master.readRegisters(6, 0, 2)).toEqual([25003, (-32) & 0xffff]);
    // -2.5f = C0 20 00 00, word-swapped (CDAB); f_badc after it holds its default 0
    expect(await master.readRegisters(7, 2, 4, 4)).toEqual([0x0000, 0xc020, 0, 0]);
    expect(await master.readRegisters(7, 8, 2, 4)).toEqual([0x0102, 0x0304]);
    expect(await master.readRegisters(8, 6, 1)).toEqual([37]);
    expect(await master.readRegisters(8, 0x100, 1)).toEqual([8]); // device_address defaults to the unit id
    expect(await master.readBits(5, 0, 8, 2)).toEqual([false, true, false, false, false, false, false, false]);
    expect(await master.readBits(5, 0, 8, 1)).toEqual(Array(8).fill(false));
  });

  it('computes scripted values at request time on its own clock', async () => {
    const first = await master.readRegisters(2, 1, 1);
    // only when the read surely happened before the step (a slow machine may be past it already)
    if (performance.now() - startBefore < 400) expect(first).toEqual([18]);
    const wait = 400 - (performance.now() - startAfter);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 5));
    expect(await master.readRegisters(2, 1, 1)).toEqual([33]);
  });

  it('lands writes: FC5, FC15 on coils; FC6, FC16 on holding registers', async () => {
    expect(await master.request({ unit: 5, fn: 5, address: 2, value: true })).toEqual({
      kind: 'response',
      response: { fn: 5, address: 2, quantityOrValue: 0xff00 },
    });
    expect(sim.readCoil(5, 2)).toBe(true);
    expect(await master.readBits(5, 0, 4, 1)).toEqual([false, false, true, false]);
    expect(await master.request({ unit: 5, fn: 15, address: 4, values: [true, false, true, true] })).toMatchObject({
      kind: 'response',
      response: { fn: 15, address: 4, quantityOrValue: 4 },
    });
    expect([4, 5, 6, 7].map((a) => sim.readCoil(5, a))).toEqual([true, false, true, true]);

    expect(await master.request({ unit: 8, fn: 6, address: 0x100, value: 17 })).toMatchObject({ kind: 'response' });
    expect(sim.readHoldingRegister(8, 0x100)).toBe(17);
    expect(await master.request({ unit: 8, fn: 16, address: 0x100, values: [9, 3] })).toMatchObject({
      kind: 'response',
      response: { fn: 16, address: 0x100, quantityOrValue: 2 },
    });
    expect([sim.readHoldingRegister(8, 0x100), sim.readHoldingRegister(8, 0x101)]).toEqual([9, 3]);
    expect(await master.readRegisters(8, 0x100, 2)).toEqual([9, 3]);
  });

  it('answers exceptions like a device: illegal address, value and function', async () => {
    expect(await master.request({ unit: 1, fn: 3, address: 0, count: 11 })).toEqual({ kind: 'exception', code: 2 });
    expect(await master.request({ unit: 1, fn: 4, address: 0, count: 1 })).toEqual({ kind: 'exception', code: 2 });
    expect(await master.request({ unit: 1, fn: 3, address: 0, count: 0 })).toEqual({ kind: 'exception', code: 3 });
    // concentration is not writable; relay inputs are not coils
    expect(await master.request({ unit: 1, fn: 6, address: 1, value: 5 })).toEqual({ kind: 'exception', code: 2 });
    expect(await master.request({ unit: 5, fn: 15, address: 6, values: [true, true, true] })).toEqual({ kind: 'exception', code: 2 });
    expect(sim.readCoil(5, 6)).toBe(true); // the refused write changed nothing
    // function 7 (read exception status) is not implemented
    const fn7 = withCrc(Buffer.from([1, 7, 0, 0, 0, 0]));
    expect(await master.exchange(fn7, { unit: 1, fn: 3, address: 0, count: 1 }, NO_ANSWER_MS)).toMatchObject({ kind: 'timeout' });
    const raw = await master.sendAndCollect(fn7, NO_ANSWER_MS);
    expect([...raw]).toEqual([...withCrc(Buffer.from([1, 0x87, 1]))]);
  });

  it('does not answer a unit that is not on the line, but counts the request', async () => {
    const before = sim.stats();
    expect(await master.request({ unit: 42, fn: 3, address: 0, count: 1 }, NO_ANSWER_MS)).toEqual({
      kind: 'timeout',
      received: Buffer.alloc(0),
      crcSeen: false,
    });
    const after = sim.stats();
    expect(after.perUnit[42]).toBe(1);
    expect(after.requests).toBe(before.requests + 1);
    expect(after.answered).toBe(before.answered);
  });

  it('applies a broadcast write on every device and answers nothing', async () => {
    const raw = await master.sendAndCollect(encodeRequest({ unit: 0, fn: 5, address: 0, value: true }), NO_ANSWER_MS);
    expect(raw.length).toBe(0);
    expect(sim.readCoil(5, 0)).toBe(true);
  });

  it('ignores a request with a bad CRC, counts it, and answers the next good one', async () => {
    const before = sim.stats();
    const bad = encodeRequest({ unit: 1, fn: 3, address: 1, count: 1 });
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    expect((await master.sendAndCollect(bad, NO_ANSWER_MS)).length).toBe(0);
    expect(sim.stats().badCrcRequests).toBe(before.badCrcRequests + 1);
    expect(sim.stats().requests).toBe(before.requests);
    expect(await master.readRegisters(1, 1, 1)).toEqual([125]);
  });

  it('finds a good request behind line noise, and one split across packets', async () => {
    const before = sim.stats();
    const good = encodeRequest({ unit: 1, fn: 3, address: 1, count: 1 });
    const noisy = Buffer.concat([Buffer.from([0x00, 0xff, 0x13, 0x37]), good]);
    expect(await master.exchange(noisy, { unit: 1, fn: 3, address: 1, count: 1 })).toMatchObject({
      kind: 'response',
      response: { registers: [125] },
    });
    expect(sim.stats().badCrcRequests).toBe(before.badCrcRequests + 1);

    const answer = master.exchange(good.subarray(0, 3), { unit: 1, fn: 3, address: 1, count: 1 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    master.write(good.subarray(3));
    expect(await answer).toMatchObject({ kind: 'response', response: { registers: [125] } });
  });

  it('answers each connection on its own socket', async () => {
    const endpoint = sim.endpoint;
    if (endpoint.kind !== 'tcp') throw new Error('tcp');
    const others = await Promise.all([1, 2, 3].map(() => tcpMaster(endpoint.host, endpoint.port)));
    try {
      const results = await Promise.all(others.map((m, i) => m.readRegisters(4, 0, 1).then((r) => [i, r] as const)));
      expect(results).toEqual([0, 1, 2].map((i) => [i, [(-45) & 0xffff]]));
    } finally {
      await Promise.all(others.map((m) => m.close()));
    }
  });

  it('counts requests per unit', async () => {
    const before = sim.stats();
    await master.readRegisters(4, 0, 1);
    await master.readRegisters(4, 0, 1);
    await master.readRegisters(6, 0, 1);
    const after = sim.stats();
    expect(after.perUnit[4]).toBe((before.perUnit[4] ?? 0) + 2);
    expect(after.perUnit[6]).toBe((before.perUnit[6] ?? 0) + 1);
    expect(after.answered).toBe(before.answered + 3);
  });

  it('rejects run-time changes that make no sense, naming them', () => {
    expect(() => sim.setValue(6, 'displacement', { constant: 1 })).toThrow(/computed/);
    expect(() => sim.setValue(6, 'nope', { constant: 1 })).toThrow(/no register "nope"/);
    expect(() => sim.setValue(2, 'unit_code', { ramp: { from: 0, to: 1, overMs: 10 } })).toThrow(/only be set to a constant/);
    expect(() => sim.setFault(99, { kind: 'silent' })).toThrow(/unit 99/);
    expect(() => sim.readCoil(99, 0)).toThrow(/unit 99/);
  });
});

describe('simulator lifecycle', () => {
  it('frees its port on close and refuses duplicate units', async () => {
    const sim = await startTcpSimulator({ devices: [{ unit: 1, profile: shippedProfile('crack-drawwire-u16') }] });
    if (sim.endpoint.kind !== 'tcp') throw new Error('tcp');
    const { host, port } = sim.endpoint;
    const master = await tcpMaster(host, port);
    await sim.close();
    await sim.close();
    await master.close();
    await expect(tcpMaster(host, port)).rejects.toThrow(/ECONNREFUSED/);
    await expect(
      startTcpSimulator({
        devices: [
          { unit: 1, profile: shippedProfile('crack-drawwire-u16') },
          { unit: 1, profile: shippedProfile('crack-drawwire-s16') },
        ],
      }),
    ).rejects.toThrow(/share unit 1/);
  });
});
