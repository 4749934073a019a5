import { describe, expect, it } from 'vitest';
import { decodeWords, extractBits, parseBitRange } from '../../drivers/modbus/decode.js';
import {
  encodeRegisterValue,
  encodeSentinel,
  encodeState,
  EncodeError,
  statesOf,
  type EncodedWrite,
} from '../../drivers/modbus/encode.js';
import { RegisterImage } from '../../drivers/simulator/image.js';
import { shippedProfile, wideTypes } from './profiles.js';

function words(writes: EncodedWrite[], fn: 3 | 4, address: number, count: number): number[] {
  const image = new RegisterImage();
  image.applyAll(writes);
  return Array.from({ length: count }, (_, i) => image.word(fn, address + i));
}

describe('encodeRegisterValue: 32-bit byte orders', () => {
  // 1.0f = 0x3F800000: A=3F B=80 C=00 D=00; the letters give the order on the wire
  it.each([
    ['f_abcd', 0, [0x3f80, 0x0000]],
    ['f_cdab', 2, [0x0000, 0x3f80]],
    ['f_badc', 4, [0x803f, 0x0000]],
    ['f_dcba', 6, [0x0000, 0x803f]],
  ] as const)('%s puts 1.0 on the wire in its order', (name, pdu, expected) => {
    const writes = encodeRegisterValue(wideTypes, name, 1.0);
    expect(writes).toEqual([{ fn: 4, pduAddress: pdu, words: expected }]);
  });

  it('round-trips through the independent decoder for every 32-bit type and order', () => {
    const cases: Array<[string, number, 'f32' | 'u32' | 's32', 'ABCD' | 'CDAB' | 'BADC' | 'DCBA', number]> = [
      ['f_abcd', -1234.5, 'f32', 'ABCD', 1],
      ['f_cdab', 3.25, 'f32', 'CDAB', 1],
      ['f_badc', 0.15625, 'f32', 'BADC', 1],
      ['f_dcba', 1e6, 'f32', 'DCBA', 1],
      ['u_abcd', 0xdeadbeef, 'u32', 'ABCD', 1],
      ['s_dcba', -70000.25, 's32', 'DCBA', 0.01],
    ];
    for (const [name, value, type, byteOrder, scale] of cases) {
      const write = encodeRegisterValue(wideTypes, name, value)[0]!;
      expect(write.fn).toBe(4);
      const decoded = decodeWords((write as { words: number[] }).words, 0, { type, byteOrder });
      expect(decoded.value * scale).toBeCloseTo(value, 6);
    }
  });
});

describe('encodeRegisterValue: 16-bit, bits and scaling', () => {
  it('applies scale and offset, and keeps the sign of s16', () => {
    // value = raw × 0.1 − 10 → raw = (value + 10) / 0.1
    expect(words(encodeRegisterValue(wideTypes, 'signed', -25.5), 4, 13, 1)).toEqual([(-155) & 0xffff]);
    const crack = shippedProfile('crack-drawwire-s16');
    const [write] = encodeRegisterValue(crack, 'displacement', -12.3);
    const decoded = decodeWords((write as { words: number[] }).words, 0, { type: 's16' });
    expect(decoded.value).toBe(-123);
  });

  it('writes a bit and a bitfield into the same register without disturbing each other', () => {
    const image = new RegisterImage();
    image.setWord(4, 12, 0xf0f0);
    image.applyAll(encodeRegisterValue(wideTypes, 'field', 0xa));
    image.applyAll(encodeRegisterValue(wideTypes, 'flag', 1));
    const word = image.word(4, 12);
    expect(extractBits(word, parseBitRange('8-11'))).toBe(0xa);
    expect((word >> 3) & 1).toBe(1);
    expect(word & ~0x0f08).toBe(0xf0f0 & ~0x0f08); // the other bits kept
  });

  it('encodes coils and discrete inputs as bits at their PDU address', () => {
    const relays = shippedProfile('relay-board-8ch');
    expect(encodeRegisterValue(relays, 'relay_3', 1)).toEqual([{ fn: 1, pduAddress: 2, bits: [true] }]);
    expect(encodeRegisterValue(relays, 'input_8', 0)).toEqual([{ fn: 2, pduAddress: 7, bits: [false] }]);
  });

  it('refuses values that do not fit, unless asked to saturate like a sensor', () => {
    const crack = shippedProfile('crack-drawwire-u16');
    expect(() => encodeRegisterValue(crack, 'displacement', -1)).toThrow(EncodeError);
    expect(() => encodeRegisterValue(crack, 'displacement', 700)).toThrow(/outside/);
    expect(words(encodeRegisterValue(crack, 'displacement', 700, { saturate: true }), 3, 0, 1)).toEqual([0xffff]);
    expect(() => encodeRegisterValue(crack, 'displacement', Number.NaN)).toThrow(/finite/);
  });

  it('refuses computed and unknown registers, naming them', () => {
    expect(() => encodeRegisterValue(wideTypes, 'sum', 1)).toThrow(/"sum".*computed/);
    expect(() => encodeRegisterValue(wideTypes, 'nope', 1)).toThrow(/no register "nope"/);
  });
});

describe('encodeRegisterValue: decimals and unit from another register', () => {
  const gas = shippedProfile('gas-module-10reg');

  it('writes the value with one decimal and announces unit and decimals in unit_code', () => {
    const image = new RegisterImage();
    image.applyAll(encodeRegisterValue(gas, 'concentration', 12.5, { unit: '%LEL' }));
    expect(image.word(3, 1)).toBe(125);
    expect(image.word(3, 0)).toBe(0x2400); // bits 15-12: 2 = %LEL; bits 11-8: 4 = one decimal
  });

  it('uses the register unit when the profile knows it, and the decimals it is told', () => {
    const image = new RegisterImage();
    image.applyAll(encodeRegisterValue(gas, 'concentration', 1.25, { decimals: 2, unit: 'ppb' }));
    expect(image.word(3, 1)).toBe(125);
    expect(image.word(3, 0)).toBe(0x8800);
  });

  it('can leave the decimals register alone', () => {
    const writes = encodeRegisterValue(gas, 'concentration', 7, { decimals: 0, writeSources: false });
    expect(writes).toEqual([{ fn: 3, pduAddress: 1, words: [7] }]);
  });

  it('rejects a unit the unit register cannot announce', () => {
    expect(() => encodeRegisterValue(gas, 'concentration', 1, { unit: 'furlongs' })).toThrow(/cannot announce unit/);
  });
});

describe('encodeState', () => {
  it('finds the status value for each state of a value-map status register', () => {
    const gas = shippedProfile('gas-module-10reg');
    const status = (state: Parameters<typeof encodeState>[2]) => words(encodeState(gas, 'status', state) ?? [], 3, 5, 1)[0];
    expect(status('ok')).toBe(0x01);
    expect(status('warm-up')).toBe(0x00);
    expect(status('sensor-fault')).toBe(0x03);
    expect(status('over-range')).toBe(0x08);
    expect(status('sensor-lost')).toBe(0x0f);
  });

  it('sets and clears bits for a status word, so that only the wanted state shows', () => {
    const probe = shippedProfile('gas-status-word');
    const map = probe.registers.find((r) => r.name === 'status_word')!;
    const word = (state: Parameters<typeof encodeState>[2]) => words(encodeState(probe, 'status_word', state)!, 3, 0x6000, 1)[0]!;
    expect(word('ok')).toBe(0x8000);
    expect(word('warm-up') & 0x8000).toBe(0);
    expect(word('sensor-lost')).toBe(0x8020);
    expect(word('high-alarm')).toBe(0x8002);
    if (!('states' in map) || !map.states) throw new Error('status_word has states');
    expect([...statesOf(map.states, word('over-range'))]).toEqual(['over-range']);
    // the status word has no bit for "sensor fault" and no otherwise for bits: not expressible
    expect(encodeState(probe, 'status_word', 'sensor-fault')).toBeNull();
  });

  it('uses "otherwise" when a state has no value of its own', () => {
    const probe = shippedProfile('gas-status-word');
    const writes = encodeState(probe, 'run_status', 'data-error')!;
    const value = words(writes, 3, 0x6006, 1)[0]!;
    expect([0, 1, 2]).not.toContain(value);
  });
});

describe('encodeSentinel', () => {
  it('puts the raw pattern in the register words', () => {
    const vw = shippedProfile('vw-converter');
    const temperature = vw.registers.find((r) => r.name === 'temperature');
    if (!temperature || 'compute' in temperature) throw new Error('temperature is a read register');
    expect(encodeSentinel(vw, temperature, 0x8000)).toEqual([{ fn: 3, pduAddress: 1, words: [0x8000] }]);
  });
});
