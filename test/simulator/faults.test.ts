import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest } from '../../drivers/modbus/rtu.js';
import { startTcpSimulator, type RunningSimulator, type SimulatorOptions } from '../../drivers/simulator/index.js';
import { shippedProfile } from './profiles.js';
import { tcpMaster, type RtuMaster } from './rtu-master.js';

const NO_ANSWER_MS = 200;
const gas = shippedProfile('gas-module-10reg');
const statusWordProbe = shippedProfile('gas-status-word');
const jxbs = shippedProfile('jxbs-3001-gas');
const crack = shippedProfile('crack-drawwire-u16');

async function started(options: SimulatorOptions): Promise<{ sim: RunningSimulator; master: RtuMaster }> {
  const sim = await startTcpSimulator(options);
  if (sim.endpoint.kind !== 'tcp') throw new Error('tcp');
  return { sim, master: await tcpMaster(sim.endpoint.host, sim.endpoint.port) };
}

describe('injected faults', () => {
  let sim: RunningSimulator;
  let master: RtuMaster;
  const readGas = { unit: 1, fn: 3, address: 0, count: 10 } as const;

  beforeAll(async () => {
    ({ sim, master } = await started({
      devices: [
        { unit: 1, profile: gas, values: { concentration: { constant: 12.5 } } },
        { unit: 2, profile: statusWordProbe },
        { unit: 3, profile: jxbs, values: { concentration: { constant: 3.7 } } },
        { unit: 4, profile: crack, fault: { kind: 'silent' } },
      ],
    }));
  });
  afterEach(() => {
    for (const unit of [1, 2, 3]) sim.setFault(unit, null);
  });
  afterAll(async () => {
    await master.close();
    await sim.close();
  });

  it('silent: no answer at all, while its neighbours answer', async () => {
    expect(await master.request({ unit: 4, fn: 3, address: 0, count: 1 }, NO_ANSWER_MS)).toMatchObject({
      kind: 'timeout',
      received: Buffer.alloc(0),
    });
    expect(await master.request(readGas)).toMatchObject({ kind: 'response' });
    sim.setFault(1, { kind: 'silent' });
    expect(await master.request(readGas, NO_ANSWER_MS)).toMatchObject({ kind: 'timeout' });
    sim.setFault(1, null);
    expect(await master.request(readGas)).toMatchObject({ kind: 'response' });
  });

  it('slow: the answer comes, but not before the delay', async () => {
    sim.setFault(1, { kind: 'slow', delayMs: 300 });
    const sent = performance.now();
    const result = await master.request(readGas, 5000);
    expect(result.kind === 'response' && 'registers' in result.response && result.response.registers[1]).toBe(125);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(300);
  });

  it('slow: a master with a short timeout gives up, and the late answer still arrives after', async () => {
    sim.setFault(1, { kind: 'slow', delayMs: 600 });
    expect(await master.request(readGas, 100)).toMatchObject({ kind: 'timeout' });
    sim.setFault(1, null);
    // meanwhile another unit answers at once: a slow device does not hold up the line
    expect(await master.request({ unit: 3, fn: 3, address: 6, count: 1 })).toMatchObject({ kind: 'response' });
    expect(await master.waitFor(readGas, 5000)).toMatchObject({ kind: 'response' });
  });

  it('crc: the answer arrives with a CRC that fails', async () => {
    sim.setFault(1, { kind: 'crc' });
    const result = await master.request(readGas, NO_ANSWER_MS);
    expect(result).toMatchObject({ kind: 'timeout', crcSeen: true });
    if (result.kind === 'timeout') expect(result.received.length).toBe(5 + 2 * 10);
  });

  it('exception: the device answers with the given exception code, for reads and writes', async () => {
    sim.setFault(3, { kind: 'exception', code: 4 });
    expect(await master.request({ unit: 3, fn: 3, address: 6, count: 1 })).toEqual({ kind: 'exception', code: 4 });
    expect(await master.request({ unit: 3, fn: 6, address: 0x100, value: 99 })).toEqual({ kind: 'exception', code: 4 });
    expect(sim.readHoldingRegister(3, 0x100)).toBe(3); // a refused write does not land
  });

  it('garbage: bytes that are no answer', async () => {
    sim.setFault(1, { kind: 'garbage', length: 17 });
    const raw = await master.sendAndCollect(encodeRequest(readGas), NO_ANSWER_MS);
    expect(raw.length).toBe(17);
    sim.setFault(1, { kind: 'garbage' });
    expect(await master.request(readGas, NO_ANSWER_MS)).toMatchObject({ kind: 'timeout' });
  });

  it('warm-up: the status register says warm-up, the rest still answers', async () => {
    sim.setFault(1, { kind: 'warm-up' });
    const registers = await master.readRegisters(1, 0, 10);
    expect(registers[5]).toBe(0x00);
    expect(registers[1]).toBe(125);
    sim.setFault(2, { kind: 'warm-up' });
    const word = (await master.readRegisters(2, 0x6000, 7))!;
    expect(word[0]! & 0x8000).toBe(0); // bit 15 clear: warm-up not done
    expect(word[6]).toBe(0); // run status 0: busy
    sim.setFault(1, null);
    expect((await master.readRegisters(1, 5, 1))[0]).toBe(0x01);
  });

  it('sensor-fault: each status register says the closest thing its map has; no status → the sentinel', async () => {
    sim.setFault(1, { kind: 'sensor-fault' });
    expect(await master.readRegisters(1, 5, 1)).toEqual([0x03]);
    sim.setFault(2, { kind: 'sensor-fault' });
    const registers = await master.readRegisters(2, 0x6000, 7);
    expect(registers[0]).toBe(0x8020); // bit 5: sensor lost (the word has no "sensor fault")
    expect(registers[6]).toBe(2); // run status: failed
    sim.setFault(3, { kind: 'sensor-fault' });
    expect(await master.readRegisters(3, 6, 1)).toEqual([0xffff]);
  });

  it('refuses a fault the profile cannot express', () => {
    expect(() => sim.setFault(3, { kind: 'warm-up' })).toThrow(/warm-up/);
    expect(() => sim.setFault(1, { kind: 'slow', delayMs: -1 })).toThrow(/delayMs/);
  });
});

describe('flaky faults', () => {
  /** Sends `requests` reads in one burst to a unit that is silent 30 % of the time; returns how many it answered. */
  async function answeredOf(seed: number, requests: number): Promise<{ answered: number; perUnit: number }> {
    const { sim, master } = await started({
      seed,
      devices: [{ unit: 9, profile: crack, fault: { kind: 'silent' }, faultProbability: 0.3 }],
    });
    try {
      const burst = Buffer.concat(Array.from({ length: requests }, () => encodeRequest({ unit: 9, fn: 3, address: 0, count: 1 })));
      master.write(burst);
      for (let waited = 0; sim.stats().requests < requests && waited < 5000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { answered: sim.stats().answered, perUnit: sim.stats().perUnit[9] ?? 0 };
    } finally {
      await master.close();
      await sim.close();
    }
  }

  it('a fault with a probability applies to about that share of requests, the same way for the same seed', async () => {
    const first = await answeredOf(7, 400);
    expect(first.perUnit).toBe(400);
    // 70 % of 400 answered = 280; the bounds are many standard deviations (σ ≈ 9) wide
    expect(first.answered).toBeGreaterThan(220);
    expect(first.answered).toBeLessThan(340);
    expect(await answeredOf(7, 400)).toEqual(first);
    expect((await answeredOf(8, 400)).answered).not.toBe(first.answered);
  });

  it('garbage is the same for the same seed', async () => {
    const collect = async () => {
      const { sim, master } = await started({ seed: 3, devices: [{ unit: 1, profile: crack, fault: { kind: 'garbage', length: 12 } }] });
      try {
        return await master.sendAndCollect(encodeRequest({ unit: 1, fn: 3, address: 0, count: 1 }), NO_ANSWER_MS);
      } finally {
        await master.close();
        await sim.close();
      }
    };
    const a = await collect();
    expect(a.length).toBe(12);
    expect(await collect()).toEqual(a);
  });
});
