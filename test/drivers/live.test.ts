import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusBus } from '../../agent/bus/index.js';
import { createProfileDevice, type ProfileDevice } from '../../drivers/modbus/index.js';
import type { Reading } from '../../drivers/reading.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { loadShippedProfile, siteDevice, STAMP } from './helpers.js';

// The driver against real Modbus RTU frames: the device simulator on a TCP socket (raw RTU, as a serial device
// server speaks it) and the real bus owner in between.

const GAS = 1;
const VW = 2;
const CRACK = 3;

const gasProfile = loadShippedProfile('gas-module-10reg');
const vwProfile = loadShippedProfile('vw-converter');
const crackProfile = loadShippedProfile('crack-drawwire-s16');

describe('profile devices over a live Modbus RTU link', () => {
  let sim: RunningSimulator;
  let bus: ModbusBus;
  const devices = new Map<number, ProfileDevice>();

  beforeAll(async () => {
    sim = await startTcpSimulator({
      devices: [
        { unit: GAS, profile: gasProfile, values: { concentration: { constant: 12.3 }, temperature: { constant: 23.5 } } },
        { unit: VW, profile: vwProfile, values: { frequency: { constant: 1234.5 }, temperature: { constant: 21.5 } } },
        { unit: CRACK, profile: crackProfile, values: { displacement: { constant: -12.3 } } },
      ],
    });
    if (sim.endpoint.kind !== 'tcp') throw new Error('expected a TCP simulator');
    bus = new ModbusBus({
      id: 'live',
      transport: { kind: 'tcp', host: sim.endpoint.host, port: sim.endpoint.port },
      timeoutMs: 300,
      retries: 0,
      reconnect: { minMs: 50, maxMs: 400 },
    });
    const breaker = { failures: 100, minBackoff: 2000, maxBackoff: 8000 };
    const sites = [
      [GAS, gasProfile, [{ id: 'ch4', register: 'concentration' }, { id: 'temp', register: 'temperature' }]],
      [VW, vwProfile, [{ id: 'crack', register: 'displacement', params: { G: 0.05, K: 0.01, R0: 1500, T0: 20 } }]],
      [CRACK, crackProfile, [{ id: 'wire', register: 'displacement' }]],
    ] as const;
    for (const [unit, profile, channels] of sites) {
      const site = siteDevice(profile.id, channels.map((c) => ({ ...c })), { id: `unit${unit}`, unit });
      bus.addDevice(site.id, { unit, breaker });
      devices.set(unit, createProfileDevice(profile, site));
    }
    bus.start();
    if (!bus.connected) await new Promise<void>((resolve) => bus.once('connected', resolve));
  });

  afterAll(async () => {
    await bus?.stop();
    await sim?.close();
  });

  async function poll(unit: number, channelIds: string[]): Promise<Reading[]> {
    const device = devices.get(unit)!;
    const plan = device.planPoll(channelIds);
    const outcomes = [];
    for (const block of plan.blocks) outcomes.push(await bus.read(device.deviceId, block, 'normal'));
    return device.decode(plan, outcomes, STAMP);
  }

  it('reads a gas module: unit and decimals from its unit register, status ok', async () => {
    const readings = await poll(GAS, ['ch4', 'temp']);
    expect(readings.map((r) => [r.channelId, r.value, r.unit, r.quality])).toEqual([
      ['ch4', 12.3, 'ppm', 'good'],
      ['temp', 23.5, '°C', 'good'],
    ]);
  });

  it('computes a vibrating-wire displacement from a 1-based register map', async () => {
    // digits = 1234.5² / 1000 = 1523.99025; D = 0.05 × 23.99025 + 0.01 × 1.5 = 1.2145125 mm
    expect((await poll(VW, ['crack'])).map((r) => [r.value, r.unit, r.quality])).toEqual([[1.2145125, 'mm', 'good']]);
  });

  it('keeps the sign of a draw-wire gauge', async () => {
    expect((await poll(CRACK, ['wire'])).map((r) => r.value)).toEqual([-12.3]);
  });

  it('turns device faults into reasons: exception, warm-up, sensor fault, silence', async () => {
    sim.setFault(GAS, { kind: 'exception', code: 2 });
    expect((await poll(GAS, ['ch4']))[0]).toMatchObject({
      value: null,
      quality: 'bad',
      reason: 'exception',
      detail: 'Modbus exception 2 (illegal data address)',
    });
    sim.setFault(GAS, { kind: 'warm-up' });
    expect((await poll(GAS, ['ch4']))[0]).toMatchObject({ quality: 'uncertain', reason: 'warm-up' });
    sim.setFault(GAS, { kind: 'sensor-fault' });
    expect((await poll(GAS, ['ch4']))[0]).toMatchObject({ value: null, quality: 'bad', reason: 'sensor-fault' });
    sim.setFault(GAS, { kind: 'silent' });
    expect((await poll(GAS, ['ch4', 'temp'])).map((r) => [r.value, r.quality, r.reason])).toEqual([
      [null, 'bad', 'timeout'],
      [null, 'bad', 'timeout'],
    ]);
    sim.setFault(GAS, null);
    expect((await poll(GAS, ['ch4']))[0]).toMatchObject({ value: 12.3, quality: 'good' });
  });
});
