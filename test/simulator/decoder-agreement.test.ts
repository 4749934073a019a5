/**
 * The simulator's encoding against the agent's own decoding (drivers/modbus createProfileDevice), for every
 * shipped profile: what a simulation scripts in engineering units is what the agent reads back, with the same
 * unit and quality. Faults come back as the device states they stand for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { device as deviceSchema, type DeviceState } from '../../config/schema/index.js';
import { createProfileDevice, type TransactionOutcome } from '../../drivers/modbus/index.js';
import type { Reading } from '../../drivers/reading.js';
import { startTcpSimulator, type RunningSimulator, type SimDeviceSpec } from '../../drivers/simulator/index.js';
import { shippedProfile } from './profiles.js';
import { tcpMaster, type RtuMaster } from './rtu-master.js';

interface Case {
  spec: SimDeviceSpec;
  channels: Array<{ register: string; params?: Record<string, number> }>;
}

const cases: Case[] = [
  {
    spec: {
      unit: 1,
      profile: shippedProfile('gas-module-10reg'),
      values: { concentration: { constant: 12.5 }, temperature: { constant: -3.4 }, humidity: { constant: 61.2 } },
    },
    channels: [{ register: 'concentration' }, { register: 'temperature' }, { register: 'humidity' }, { register: 'full_scale' }],
  },
  {
    spec: { unit: 2, profile: shippedProfile('gas-module-10reg'), values: { unit_code: { constant: 0x2400 }, concentration: { constant: 33.3 } } },
    channels: [{ register: 'concentration' }, { register: 'high_setpoint' }],
  },
  { spec: { unit: 3, profile: shippedProfile('gas-status-word'), values: { concentration: { constant: 250 } } }, channels: [{ register: 'concentration' }] },
  { spec: { unit: 4, profile: shippedProfile('jxbs-3001-gas'), values: { concentration: { constant: 3.7 } } }, channels: [{ register: 'concentration' }] },
  { spec: { unit: 5, profile: shippedProfile('crack-drawwire-u16'), values: { displacement: { constant: 123.45 } } }, channels: [{ register: 'displacement' }] },
  { spec: { unit: 6, profile: shippedProfile('crack-drawwire-s16'), values: { displacement: { constant: -4.5 } } }, channels: [{ register: 'displacement' }] },
  {
    spec: { unit: 7, profile: shippedProfile('vw-converter'), values: { frequency: { constant: 2500 }, temperature: { constant: 12.5 } } },
    channels: [{ register: 'displacement', params: { G: 0.01, K: 0.1, R0: 6000, T0: 10 } }, { register: 'temperature' }],
  },
  { spec: { unit: 8, profile: shippedProfile('rain-tipping-bucket'), values: { tips: { constant: 17 } } }, channels: [{ register: 'rainfall' }] },
  { spec: { unit: 9, profile: shippedProfile('relay-board-8ch'), values: { input_3: { constant: 1 } } }, channels: [{ register: 'input_3' }, { register: 'input_4' }] },
];

describe('simulator encoding vs the agent decoding, for every shipped profile', () => {
  let sim: RunningSimulator;
  let master: RtuMaster;

  beforeAll(async () => {
    sim = await startTcpSimulator({ devices: cases.map((c) => c.spec) });
    if (sim.endpoint.kind !== 'tcp') throw new Error('tcp');
    master = await tcpMaster(sim.endpoint.host, sim.endpoint.port);
  });
  afterAll(async () => {
    await master.close();
    await sim.close();
  });

  /** Polls one device the way the agent would (its read plan), through the simulator, and decodes. */
  async function poll(unit: number): Promise<Record<string, Reading>> {
    const testCase = cases.find((c) => c.spec.unit === unit)!;
    const device = deviceSchema.parse({
      id: `dev${unit}`,
      bus: 'bus',
      unit,
      profile: testCase.spec.profile.id,
      channels: testCase.channels.map((ch) => ({ id: ch.register, register: ch.register, ...(ch.params ? { params: ch.params } : {}) })),
    });
    const driver = createProfileDevice(testCase.spec.profile, device);
    const plan = driver.planPoll(testCase.channels.map((ch) => ch.register));
    const outcomes: TransactionOutcome[] = [];
    for (const block of plan.blocks) {
      const result = await master.request({ unit, ...block });
      if (result.kind === 'response' && 'registers' in result.response) outcomes.push({ ok: true, registers: result.response.registers });
      else if (result.kind === 'response' && 'bits' in result.response) outcomes.push({ ok: true, bits: result.response.bits });
      else throw new Error(`block ${JSON.stringify(block)} failed: ${JSON.stringify(result)}`);
    }
    const readings = driver.decode(plan, outcomes, { wallTs: 0, monoTs: 0, clockSynced: false });
    return Object.fromEntries(readings.map((r) => [r.channelId, r]));
  }

  it.each([
    [1, 'concentration', 12.5, 'ppm'],
    [1, 'temperature', -3.4, '°C'],
    [1, 'humidity', 61.2, '%RH'],
    [1, 'full_scale', 100, 'ppm'],
    [2, 'concentration', 33.3, '%LEL'],
    [2, 'high_setpoint', 50, '%LEL'],
    [3, 'concentration', 250, ''],
    [4, 'concentration', 3.7, 'ppm'],
    [5, 'displacement', 123.45, 'mm'],
    [6, 'displacement', -4.5, 'mm'],
    // digits = 2500² / 1000 = 6250; D = 0.01 × (6250 − 6000) + 0.1 × (12.5 − 10) = 2.75
    [7, 'displacement', 2.75, 'mm'],
    [8, 'rainfall', 3.4, 'mm'],
    [9, 'input_3', 1, ''],
    [9, 'input_4', 0, ''],
  ] as const)('unit %i %s reads back as %d %s', async (unit, channel, value, unitText) => {
    const reading = (await poll(unit))[channel]!;
    expect(reading.quality).toBe('good');
    expect(reading.value).toBeCloseTo(value, 9);
    if (unitText) expect(reading.unit).toBe(unitText);
  });

  it.each([
    [1, 'warm-up', 'uncertain', 'warm-up'],
    [1, 'sensor-fault', 'bad', 'sensor-fault'],
    [3, 'warm-up', 'uncertain', 'warm-up'],
    // its concentration is qualified by the status word only, whose closest bad state is "sensor lost"
    [3, 'sensor-fault', 'bad', 'sensor-lost'],
    [4, 'sensor-fault', 'bad', 'sentinel'],
  ] as const)('unit %i with fault %s reads as %s (%s)', async (unit, fault, quality, reason: DeviceState | 'sentinel') => {
    sim.setFault(unit, { kind: fault });
    try {
      const reading = (await poll(unit)).concentration!;
      expect(reading.quality).toBe(quality);
      expect(reading.reason).toBe(reason);
    } finally {
      sim.setFault(unit, null);
    }
  });
});
