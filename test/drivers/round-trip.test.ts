import { describe, expect, it } from 'vitest';
import { isComputed, type Profile } from '../../config/schema/index.js';
import {
  createProfileDevice,
  encodeRegisterValue,
  encodeState,
  mergeWord,
  type EncodedWrite,
  type TransactionOutcome,
} from '../../drivers/modbus/index.js';
import { loadShippedProfile, siteDevice, STAMP } from './helpers.js';

// The simulator's encoder and this driver's decoder were written separately from the same conventions. Encoding
// a hand-picked engineering value into a device image and decoding it back checks each against the other.

class DeviceImage {
  private readonly words = new Map<string, number>();
  private readonly bits = new Map<string, boolean>();

  apply(writes: readonly EncodedWrite[]): void {
    for (const write of writes) {
      if ('bits' in write) {
        write.bits.forEach((bit, i) => this.bits.set(`${write.fn}:${write.pduAddress + i}`, bit));
      } else {
        write.words.forEach((word, i) => {
          const key = `${write.fn}:${write.pduAddress + i}`;
          this.words.set(key, mergeWord(this.words.get(key) ?? 0, word, write.mask));
        });
      }
    }
  }

  answer(block: { fn: number; address: number; count: number }): TransactionOutcome {
    const at = (i: number) => `${block.fn}:${block.address + i}`;
    if (block.fn <= 2) return { ok: true, bits: Array.from({ length: block.count }, (_, i) => this.bits.get(at(i)) ?? false) };
    return { ok: true, registers: Array.from({ length: block.count }, (_, i) => this.words.get(at(i)) ?? 0) };
  }
}

function roundTrip(profile: Profile, values: Record<string, number>, units: Record<string, string> = {}) {
  const image = new DeviceImage();
  for (const register of profile.registers) {
    if (!isComputed(register) && register.states) image.apply(encodeState(profile, register.name, 'ok') ?? []);
  }
  for (const [name, value] of Object.entries(values)) {
    image.apply(encodeRegisterValue(profile, name, value, units[name] ? { unit: units[name] } : {}));
  }
  const channels = Object.keys(values).map((name) => ({ id: name, register: name }));
  const device = createProfileDevice(profile, siteDevice(profile.id, channels));
  const plan = device.planPoll(Object.keys(values));
  return device.decode(plan, plan.blocks.map((block) => image.answer(block)), STAMP);
}

describe('encode → decode round trip over the shipped profiles', () => {
  it('gas-module-10reg', () => {
    const readings = roundTrip(
      loadShippedProfile('gas-module-10reg'),
      { concentration: 12.3, low_setpoint: 20, high_setpoint: 50, full_scale: 100, temperature: -12.5, gas_type: 52, humidity: 65.5 },
      { concentration: '%LEL', low_setpoint: '%LEL', high_setpoint: '%LEL', full_scale: '%LEL' },
    );
    expect(readings.map((r) => [r.channelId, r.value, r.unit, r.quality])).toEqual([
      ['concentration', 12.3, '%LEL', 'good'],
      ['low_setpoint', 20, '%LEL', 'good'],
      ['high_setpoint', 50, '%LEL', 'good'],
      ['full_scale', 100, '%LEL', 'good'],
      ['temperature', -12.5, '°C', 'good'],
      ['gas_type', 52, '', 'good'],
      ['humidity', 65.5, '%RH', 'good'],
    ]);
  });

  it('gas-status-word', () => {
    const readings = roundTrip(loadShippedProfile('gas-status-word'), { concentration: 7 });
    expect(readings.map((r) => [r.value, r.quality])).toEqual([[7, 'good']]);
  });

  it('jxbs-3001-gas', () => {
    const readings = roundTrip(loadShippedProfile('jxbs-3001-gas'), { concentration: 14.2, device_address: 17 });
    expect(readings.map((r) => [r.value, r.unit, r.quality])).toEqual([
      [14.2, 'ppm', 'good'],
      [17, '', 'good'],
    ]);
  });

  it('crack gauges', () => {
    expect(roundTrip(loadShippedProfile('crack-drawwire-u16'), { displacement: 123.45 }).map((r) => r.value)).toEqual([123.45]);
    expect(roundTrip(loadShippedProfile('crack-drawwire-s16'), { displacement: -12.3 }).map((r) => r.value)).toEqual([-12.3]);
  });

  it('vw-converter inputs (addressBase 1)', () => {
    const readings = roundTrip(loadShippedProfile('vw-converter'), { frequency: 1234.5, temperature: -3.2 });
    expect(readings.map((r) => [r.value, r.unit, r.quality])).toEqual([
      [1234.5, 'Hz', 'good'],
      [-3.2, '°C', 'good'],
    ]);
  });

  it('rain-tipping-bucket and relay-board-8ch', () => {
    expect(roundTrip(loadShippedProfile('rain-tipping-bucket'), { tips: 42 }).map((r) => r.value)).toEqual([42]);
    const relays = roundTrip(loadShippedProfile('relay-board-8ch'), { relay_2: 1, relay_7: 0, input_8: 1 });
    expect(relays.map((r) => [r.channelId, r.value])).toEqual([
      ['relay_2', 1],
      ['relay_7', 0],
      ['input_8', 1],
    ]);
  });
});
