import { describe, expect, it } from 'vitest';
import { createProfileDevice, type TransactionOutcome } from '../../drivers/modbus/index.js';
import type { Reading } from '../../drivers/reading.js';
import { bits, inlineProfile, loadShippedProfile, registers, siteDevice, STAMP } from './helpers.js';

const gasModule = loadShippedProfile('gas-module-10reg');

/** The ten registers of the gas module, 0x0000..0x0009, with sensible defaults: %LEL, 1 decimal, status ok. */
function gasWords(overrides: Partial<Record<number, number>> = {}): number[] {
  const words = [
    0x2400, // unit %LEL (2), decimals code 4 (1 dp)
    123, // concentration 12.3 %LEL
    200, // low setpoint 20.0
    500, // high setpoint 50.0
    1000, // full scale 100.0
    0x01, // status normal
    0, // reserved
    735, // temperature (735 - 500) / 10 = 23.5 °C
    0x0b00, // gas type 11 (CH4) in the high byte
    655, // humidity 65.5 %RH
  ];
  for (const [index, value] of Object.entries(overrides)) words[Number(index)] = value!;
  return words;
}

function pollGas(words: number[], channels: Array<Record<string, unknown>> = [{ id: 'ch4', register: 'concentration' }]): Reading[] {
  const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', channels));
  const plan = device.planPoll(channels.map((c) => c.id as string));
  // Answer each request with its slice of the module's ten registers, as the device would.
  return device.decode(plan, plan.blocks.map((b) => registers(...words.slice(b.address, b.address + b.count))), STAMP);
}

function only(readings: Reading[]): Reading {
  expect(readings).toHaveLength(1);
  return readings[0]!;
}

describe('gas module: decimals and unit from the unit register', () => {
  it('produces a good reading stamped with the channel, device and clock', () => {
    expect(only(pollGas(gasWords()))).toEqual({
      channelId: 'ch4',
      deviceId: 'dev1',
      value: 12.3,
      unit: '%LEL',
      quality: 'good',
      wallTs: STAMP.wallTs,
      monoTs: STAMP.monoTs,
      clockSynced: true,
    });
  });

  it('applies each unit and decimals code', () => {
    // raw 1234: code 0 → 1234, 4 → 123.4, 8 → 12.34, C → 1.234
    const cases: Array<[number, number, string]> = [
      [0x0000, 1234, 'ppm'],
      [0x6400, 123.4, 'mg/m3'],
      [0x4800, 12.34, '%vol'],
      [0x8c00, 1.234, 'ppb'],
    ];
    for (const [code, value, unit] of cases) {
      expect(only(pollGas(gasWords({ 0: code, 1: 1234 })))).toMatchObject({ value, unit, quality: 'good' });
    }
  });

  it('refuses an unknown unit code or decimals code as a data error, saying which code', () => {
    expect(only(pollGas(gasWords({ 0: 0x3400 })))).toMatchObject({
      value: null,
      quality: 'bad',
      reason: 'data-error',
      detail: expect.stringContaining('unit code 3'),
    });
    expect(only(pollGas(gasWords({ 0: 0x2200 })))).toMatchObject({
      value: null,
      quality: 'bad',
      reason: 'data-error',
      detail: expect.stringContaining('decimals code 2'),
    });
  });

  it('decodes the other registers: setpoints, temperature offset, gas type byte, humidity', () => {
    const channels = ['low_setpoint', 'high_setpoint', 'full_scale', 'temperature', 'gas_type', 'humidity', 'status'].map(
      (register) => ({ id: register, register }),
    );
    const readings = pollGas(gasWords({ 7: 200 }), channels);
    expect(readings.map((r) => [r.channelId, r.value, r.unit, r.quality])).toEqual([
      ['low_setpoint', 20, '%LEL', 'good'],
      ['high_setpoint', 50, '%LEL', 'good'],
      ['full_scale', 100, '%LEL', 'good'],
      ['temperature', -30, '°C', 'good'], // (200 - 500) / 10
      ['gas_type', 11, '', 'good'],
      ['humidity', 65.5, '%RH', 'good'],
      ['status', 1, '', 'good'],
    ]);
  });
});

describe('gas module: status register', () => {
  const cases: Array<[number, Partial<Reading>]> = [
    [0x00, { quality: 'uncertain', reason: 'warm-up', value: 12.3 }],
    [0x01, { quality: 'good', value: 12.3 }],
    [0x02, { quality: 'bad', reason: 'data-error', value: null }],
    [0x03, { quality: 'bad', reason: 'sensor-fault', value: null }],
    [0x05, { quality: 'good', value: 12.3 }],
    [0x06, { quality: 'good', value: 12.3 }],
    [0x08, { quality: 'uncertain', reason: 'over-range', value: 12.3 }],
    [0x09, { quality: 'bad', reason: 'needs-calibration', value: null }],
    [0x0f, { quality: 'bad', reason: 'sensor-lost', value: null }],
    [0x07, { quality: 'bad', reason: 'data-error', value: null }], // not in the manual: "otherwise"
  ];
  for (const [code, expected] of cases) {
    it(`status 0x${code.toString(16).padStart(2, '0')} → ${expected.quality} ${expected.reason ?? ''}`, () => {
      const reading = only(pollGas(gasWords({ 5: code })));
      expect(reading).toMatchObject(expected);
      if (expected.quality === 'good') expect(reading.reason).toBeUndefined();
      if (expected.reason) expect(reading.detail).toContain('status');
    });
  }

  it('treats the no-data sentinel 0xFFFF as bad, never as 6553.5', () => {
    expect(only(pollGas(gasWords({ 1: 0xffff })))).toMatchObject({ value: null, quality: 'bad', reason: 'sentinel' });
  });

  it('rejects a value below the channel range as out-of-range', () => {
    const channels = [{ id: 'ch4', register: 'concentration', range: { min: 20, max: 100 } }];
    expect(only(pollGas(gasWords({ 1: 123 }), channels))).toMatchObject({
      value: null,
      quality: 'bad',
      reason: 'out-of-range',
      detail: expect.stringContaining('12.3 %LEL'),
    });
    expect(only(pollGas(gasWords({ 1: 999 }), channels))).toMatchObject({ value: 99.9, quality: 'good' });
    expect(only(pollGas(gasWords({ 1: 1000 }), channels))).toMatchObject({ value: 100, quality: 'good' });
  });

  it('reads a value above the channel range as over-range with the value kept, never as a fault', () => {
    // A probe without an over-range status (status says normal) at 130 %LEL on a 0–100 channel.
    const channels = [{ id: 'ch4', register: 'concentration', range: { min: 0, max: 100 } }];
    expect(only(pollGas(gasWords({ 1: 1300 }), channels))).toMatchObject({
      value: 130,
      unit: '%LEL',
      quality: 'uncertain',
      reason: 'over-range',
      detail: expect.stringContaining('130 %LEL is above the physical range 0..100'),
    });
  });

  it('still withholds a sentinel above the range: "no data" is not a reading', () => {
    const channels = [{ id: 'ch4', register: 'concentration', range: { min: 0, max: 100 } }];
    expect(only(pollGas(gasWords({ 1: 0xffff }), channels))).toMatchObject({ value: null, quality: 'bad', reason: 'sentinel' });
  });

  it('keeps an over-range value even beyond the physical range: it is the highest alarm', () => {
    const channels = [{ id: 'ch4', register: 'concentration', range: { min: 0, max: 100 } }];
    expect(only(pollGas(gasWords({ 1: 1234, 5: 0x08 }), channels))).toMatchObject({
      value: 123.4,
      unit: '%LEL',
      quality: 'uncertain',
      reason: 'over-range',
    });
  });

  it('during warm-up reports the warm-up, but no implausible number', () => {
    expect(only(pollGas(gasWords({ 1: 0xffff, 5: 0x00 })))).toMatchObject({
      value: null,
      quality: 'uncertain',
      reason: 'warm-up',
      detail: expect.stringContaining('no data'),
    });
  });
});

describe('gas probe with a status word: bits, bits clear, most severe wins', () => {
  const profile = loadShippedProfile('gas-status-word');
  const device = createProfileDevice(profile, siteDevice('gas-status-word', [{ id: 'h2s', register: 'concentration', unit: 'ppm' }]));
  const plan = device.planPoll(['h2s']);

  function poll(statusWord: number, concentration = 42): Reading {
    return only(device.decode(plan, [registers(statusWord, concentration)], STAMP));
  }

  it('reads 0x6000..0x6001 in one request', () => {
    expect(plan.blocks).toEqual([{ fn: 3, address: 0x6000, count: 2 }]);
  });

  it('is good once warm-up is done (bit 15) and uses the channel unit', () => {
    expect(poll(0x8000)).toMatchObject({ value: 42, unit: 'ppm', quality: 'good' });
    expect(poll(0x8000).reason).toBeUndefined();
  });

  it('is warming up while bit 15 is clear, and then reads bits 0-14 as the countdown, not as flags', () => {
    expect(poll(0x0000)).toMatchObject({ value: 42, quality: 'uncertain', reason: 'warm-up' });
    // 0x0033 = 5.1 s of warm-up left: bits 0, 1, 4 and 5 set, which must not read as alarms or a lost sensor
    expect(poll(0x0033)).toMatchObject({ value: 42, quality: 'uncertain', reason: 'warm-up' });
  });

  it('keeps alarms good: they are the device agreeing with the value', () => {
    expect(poll(0x8001)).toMatchObject({ quality: 'good', value: 42 });
    expect(poll(0x8002)).toMatchObject({ quality: 'good', value: 42 });
  });

  it('flags over-range (bit 4) and sensor lost (bit 5)', () => {
    expect(poll(0x8010)).toMatchObject({ quality: 'uncertain', reason: 'over-range', value: 42 });
    expect(poll(0x8020)).toMatchObject({ quality: 'bad', reason: 'sensor-lost', value: null });
  });

  it('lets the most severe of several bits win', () => {
    expect(poll(0x8033)).toMatchObject({ quality: 'bad', reason: 'sensor-lost', value: null }); // alarms + over-range + lost
    expect(poll(0x8012)).toMatchObject({ quality: 'uncertain', reason: 'over-range' }); // high alarm + over-range
  });
});

describe('failures propagate as reasons, never as values', () => {
  const failures: Array<[TransactionOutcome, string, string]> = [
    [{ ok: false, failure: 'timeout', detail: 'no answer within 500 ms' }, 'timeout', 'no answer within 500 ms'],
    [{ ok: false, failure: 'crc', detail: 'CRC mismatch' }, 'crc', 'CRC mismatch'],
    [{ ok: false, failure: 'framing', detail: 'stray bytes' }, 'framing', 'stray bytes'],
    [{ ok: false, failure: 'exception', detail: 'exception', exceptionCode: 2 }, 'exception', 'Modbus exception 2 (illegal data address)'],
    [{ ok: false, failure: 'port-down', detail: '/dev/ttyUSB0 gone' }, 'port-down', '/dev/ttyUSB0 gone'],
    [{ ok: false, failure: 'breaker-open', detail: 'retry in 8 s' }, 'breaker-open', 'retry in 8 s'],
  ];

  for (const [outcome, reason, detail] of failures) {
    it(`${reason} → bad/${reason} with its detail, for every channel of the block`, () => {
      const channels = [
        { id: 'ch4', register: 'concentration' },
        { id: 'temp', register: 'temperature' },
      ];
      const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', channels));
      const readings = device.decode(device.planPoll(['ch4', 'temp']), [outcome], STAMP);
      expect(readings.map((r) => [r.channelId, r.value, r.quality, r.reason, r.detail])).toEqual([
        ['ch4', null, 'bad', reason, detail],
        ['temp', null, 'bad', reason, detail],
      ]);
    });
  }

  it('fails a value whose status block failed, and only the channels that depend on it', () => {
    const channels = [
      { id: 'ch4', register: 'concentration' },
      { id: 'rh', register: 'humidity' },
    ];
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', channels, { mergeReads: false }));
    const plan = device.planPoll(['ch4', 'rh']);
    expect(plan.blocks.map((b) => b.address)).toEqual([0, 1, 5, 9]);
    const timeout: TransactionOutcome = { ok: false, failure: 'timeout', detail: 'status read timed out' };
    const readings = device.decode(plan, [registers(0x2400), registers(123), timeout, registers(655)], STAMP);
    expect(readings[0]).toMatchObject({ channelId: 'ch4', value: null, quality: 'bad', reason: 'timeout', detail: 'status read timed out' });
    expect(readings[1]).toMatchObject({ channelId: 'rh', value: 65.5, quality: 'good' });
  });

  it("names the value's own failure when both its block and its status block failed", () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', [{ id: 'ch4', register: 'concentration' }], { mergeReads: false }));
    const plan = device.planPoll(['ch4']);
    const crc: TransactionOutcome = { ok: false, failure: 'crc', detail: 'bad CRC' };
    const timeout: TransactionOutcome = { ok: false, failure: 'timeout', detail: 'no answer' };
    expect(only(device.decode(plan, [registers(0x2400), crc, timeout], STAMP))).toMatchObject({ quality: 'bad', reason: 'crc' });
  });

  it('fails a value whose unit register failed', () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', [{ id: 'ch4', register: 'concentration' }], { mergeReads: false }));
    const plan = device.planPoll(['ch4']);
    const crc: TransactionOutcome = { ok: false, failure: 'crc', detail: 'bad CRC' };
    expect(only(device.decode(plan, [crc, registers(123), registers(1)], STAMP))).toMatchObject({ value: null, quality: 'bad', reason: 'crc' });
  });

  it('treats an answer shorter than the request as a framing failure', () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', [{ id: 'rh', register: 'humidity' }]));
    const plan = device.planPoll(['rh']);
    expect(only(device.decode(plan, [registers()], STAMP))).toMatchObject({ value: null, quality: 'bad', reason: 'framing' });
    expect(only(device.decode(plan, [{ ok: true }], STAMP))).toMatchObject({ value: null, quality: 'bad', reason: 'framing' });
  });

  it('refuses outcomes that do not match the plan', () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', [{ id: 'rh', register: 'humidity' }]));
    expect(() => device.decode(device.planPoll(['rh']), [], STAMP)).toThrow(/outcomes/);
  });
});

describe('crack gauges and rounding', () => {
  it('decodes the signed draw-wire gauge: 0xFF85 = -123 → -12.3 mm', () => {
    const profile = loadShippedProfile('crack-drawwire-s16');
    const device = createProfileDevice(profile, siteDevice('crack-drawwire-s16', [{ id: 'crack', register: 'displacement' }]));
    const plan = device.planPoll(['crack']);
    expect(only(device.decode(plan, [registers(0xff85)], STAMP))).toMatchObject({ value: -12.3, unit: 'mm', quality: 'good' });
    expect(only(device.decode(plan, [registers(0x0007)], STAMP))).toMatchObject({ value: 0.7, quality: 'good' });
    expect(only(device.decode(plan, [registers(0x8000)], STAMP))).toMatchObject({ value: null, reason: 'sentinel' });
    expect(only(device.decode(plan, [registers(0x7fff)], STAMP))).toMatchObject({ value: null, reason: 'sentinel' });
  });

  it('decodes the unsigned draw-wire gauge in 0.01 mm without binary noise', () => {
    const profile = loadShippedProfile('crack-drawwire-u16');
    const device = createProfileDevice(profile, siteDevice('crack-drawwire-u16', [{ id: 'crack', register: 'displacement' }]));
    const plan = device.planPoll(['crack']);
    // 1235 × 0.01 is 12.350000000000001 in binary floating point
    expect(only(device.decode(plan, [registers(1235)], STAMP)).value).toBe(12.35);
    expect(only(device.decode(plan, [registers(29)], STAMP)).value).toBe(0.29); // 29 × 0.01 = 0.29000000000000004
  });

  it('rounds scaled values and floats to the precision they carry', () => {
    const profile = inlineProfile({
      addressBase: 0,
      byteOrder: 'CDAB',
      registers: [
        { name: 'tenths', fn: 3, address: 0, scale: 0.1 },
        { name: 'flow', fn: 3, address: 1, type: 'f32' },
        { name: 'third', fn: 3, address: 3, scale: 0.333333 },
      ],
    });
    const channels = ['tenths', 'flow', 'third'].map((r) => ({ id: r, register: r }));
    const device = createProfileDevice(profile, siteDevice('test-profile', channels));
    const readings = device.decode(device.planPoll(['tenths', 'flow', 'third']), [registers(3, 0xe979, 0x42f6, 3)], STAMP);
    expect(readings.map((r) => r.value)).toEqual([0.3, 123.456, 0.999999]);
  });

  it("lets a register's own byte order override the profile's, and reads single bits of a register", () => {
    const profile = inlineProfile({
      addressBase: 0,
      byteOrder: 'CDAB',
      registers: [
        { name: 'swapped', fn: 3, address: 0, type: 'u32' },
        { name: 'straight', fn: 3, address: 2, type: 'u32', byteOrder: 'ABCD' },
        { name: 'door_open', fn: 3, address: 4, type: 'bit', bit: 9 },
      ],
    });
    const channels = ['swapped', 'straight', 'door_open'].map((r) => ({ id: r, register: r }));
    const device = createProfileDevice(profile, siteDevice('test-profile', channels));
    // 0x00010002 = 65538: CDAB sends [0x0002, 0x0001]; ABCD sends [0x0001, 0x0002]; 0x0200 has bit 9 set
    const words = registers(0x0002, 0x0001, 0x0001, 0x0002, 0x0200);
    expect(device.decode(device.planPoll(['swapped', 'straight', 'door_open']), [words], STAMP).map((r) => r.value)).toEqual([
      65538, 65538, 1,
    ]);
  });

  it('refuses a float that is not a number', () => {
    const profile = inlineProfile({ addressBase: 0, registers: [{ name: 'flow', fn: 4, address: 0, type: 'f32' }] });
    const device = createProfileDevice(profile, siteDevice('test-profile', [{ id: 'flow', register: 'flow' }]));
    expect(only(device.decode(device.planPoll(['flow']), [registers(0x7fc0, 0)], STAMP))).toMatchObject({
      value: null,
      quality: 'bad',
      reason: 'data-error',
    });
  });
});

describe('computed registers', () => {
  const vw = loadShippedProfile('vw-converter');
  const params = { G: 0.05, K: 0.01, R0: 1500, T0: 20 };

  function vwDevice(channelParams: Record<string, number> = params) {
    return createProfileDevice(
      vw,
      siteDevice('vw-converter', [
        { id: 'crack', register: 'displacement', params: channelParams },
        { id: 'freq', register: 'frequency' },
        { id: 'digits', register: 'digits' },
      ]),
    );
  }

  it('computes the vibrating-wire displacement as by hand', () => {
    const device = vwDevice();
    const plan = device.planPoll(['crack', 'freq', 'digits']);
    expect(plan.blocks).toEqual([{ fn: 3, address: 0, count: 2 }]);
    // frequency 12345 / 10 = 1234.5 Hz; temperature 215 / 10 = 21.5 °C
    // digits = 1234.5² / 1000 = 1523990.25 / 1000 = 1523.99025
    // D = 0.05 × (1523.99025 − 1500) + 0.01 × (21.5 − 20) = 1.1995125 + 0.015 = 1.2145125 mm
    const readings = device.decode(plan, [registers(12345, 215)], STAMP);
    expect(readings.map((r) => [r.channelId, r.value, r.unit, r.quality])).toEqual([
      ['crack', 1.2145125, 'mm', 'good'],
      ['freq', 1234.5, 'Hz', 'good'],
      ['digits', 1523.99025, 'digit', 'good'],
    ]);
  });

  it('a crack gauge past the end of its range reads over-range with its value kept, to be graded on', () => {
    const device = createProfileDevice(
      vw,
      siteDevice('vw-converter', [{ id: 'crack', register: 'displacement', params, range: { min: -1, max: 1 } }]),
    );
    expect(only(device.decode(device.planPoll(['crack']), [registers(12345, 215)], STAMP))).toMatchObject({
      value: 1.2145125,
      unit: 'mm',
      quality: 'uncertain',
      reason: 'over-range',
    });
  });

  it('uses a negative temperature with its sign', () => {
    const device = vwDevice();
    // temperature 0xFFF6 = -10 → -1.0 °C; D = 0.05 × 23.99025 + 0.01 × (−1 − 20) = 1.1995125 − 0.21 = 0.9895125
    const readings = device.decode(device.planPoll(['crack']), [registers(12345, 0xfff6)], STAMP);
    expect(readings[0]!.value).toBe(0.9895125);
  });

  it('fails the computed value with the reason of a bad input', () => {
    const device = vwDevice();
    const plan = device.planPoll(['crack', 'freq']);
    // a silent wire reads 0 Hz: below the physical range
    const readings = device.decode(plan, [registers(0, 215)], STAMP);
    expect(readings[0]).toMatchObject({ value: null, quality: 'bad', reason: 'out-of-range', detail: expect.stringContaining('frequency') });
    expect(readings[1]).toMatchObject({ value: null, quality: 'bad', reason: 'out-of-range' });
    const timedOut = device.decode(plan, [{ ok: false, failure: 'timeout', detail: 'no answer' }], STAMP);
    expect(timedOut[0]).toMatchObject({ value: null, quality: 'bad', reason: 'timeout' });
    const sentinel = device.decode(plan, [registers(12345, 0x7fff)], STAMP);
    expect(sentinel[0]).toMatchObject({ value: null, quality: 'bad', reason: 'sentinel' });
  });

  it('uses param defaults where the channel gives none', () => {
    const rain = loadShippedProfile('rain-tipping-bucket');
    const device = createProfileDevice(
      rain,
      siteDevice('rain-tipping-bucket', [
        { id: 'rain', register: 'rainfall' },
        { id: 'rain_big_bucket', register: 'rainfall', params: { bucket_mm: 0.5 } },
        { id: 'tips', register: 'tips' },
      ]),
    );
    const plan = device.planPoll(['rain', 'rain_big_bucket', 'tips']);
    expect(plan.blocks).toEqual([{ fn: 3, address: 0, count: 1 }]);
    // 17 × 0.2 = 3.4 (3.4000000000000004 in binary), 17 × 0.5 = 8.5
    expect(device.decode(plan, [registers(17)], STAMP).map((r) => [r.channelId, r.value, r.unit])).toEqual([
      ['rain', 3.4, 'mm'],
      ['rain_big_bucket', 8.5, 'mm'],
      ['tips', 17, 'tips'],
    ]);
  });

  it('refuses a channel without a required param, or with a param the register does not have', () => {
    expect(() => vwDevice({ G: 0.05, K: 0.01, R0: 1500 })).toThrow(/param "T0".*no value/);
    expect(() => vwDevice({ ...params, g: 1 })).toThrow(/"g" are not params/);
  });

  it('marks a computed value uncertain when an input is uncertain', () => {
    const profile = inlineProfile({
      addressBase: 0,
      registers: [
        { name: 'status', fn: 3, address: 0, states: { values: { '0': 'warm-up', '1': 'ok' } } },
        { name: 'raw', fn: 3, address: 1, status: 'status' },
        { name: 'doubled', compute: 'raw * 2' },
      ],
    });
    const device = createProfileDevice(profile, siteDevice('test-profile', [{ id: 'd', register: 'doubled' }]));
    const plan = device.planPoll(['d']);
    expect(only(device.decode(plan, [registers(0, 21)], STAMP))).toMatchObject({ value: 42, quality: 'uncertain', reason: 'warm-up' });
    expect(only(device.decode(plan, [registers(1, 21)], STAMP))).toMatchObject({ value: 42, quality: 'good' });
  });

  it('keeps an over-range input as an over-range result with its value', () => {
    const profile = inlineProfile({
      addressBase: 0,
      registers: [
        { name: 'status', fn: 3, address: 0, states: { values: { '1': 'ok', '8': 'over-range' } } },
        { name: 'lel', fn: 3, address: 1, status: 'status', range: { min: 0, max: 100 } },
        { name: 'vol', compute: 'lel * 5 / 100', unit: '%vol' },
      ],
    });
    const device = createProfileDevice(profile, siteDevice('test-profile', [{ id: 'ch4_vol', register: 'vol' }]));
    // 120 %LEL is above the physical range, but the device says over-range: 120 × 5 / 100 = 6 %vol, kept
    expect(only(device.decode(device.planPoll(['ch4_vol']), [registers(8, 120)], STAMP))).toMatchObject({
      value: 6,
      unit: '%vol',
      quality: 'uncertain',
      reason: 'over-range',
    });
  });
});

describe('relay board bits', () => {
  it('reads coils and inputs as 0/1 from their own function codes', () => {
    const relay = loadShippedProfile('relay-board-8ch');
    const channels = [
      { id: 'fan', register: 'relay_1' },
      { id: 'siren', register: 'relay_3' },
      { id: 'door', register: 'input_2' },
    ];
    const device = createProfileDevice(relay, siteDevice('relay-board-8ch', channels));
    const plan = device.planPoll(['fan', 'siren', 'door']);
    expect(plan.blocks).toEqual([
      { fn: 1, address: 0, count: 3 },
      { fn: 2, address: 1, count: 1 },
    ]);
    const readings = device.decode(plan, [bits(1, 0, 0), bits(1)], STAMP);
    expect(readings.map((r) => [r.channelId, r.value, r.quality])).toEqual([
      ['fan', 1, 'good'],
      ['siren', 0, 'good'],
      ['door', 1, 'good'],
    ]);
  });
});

describe('plans', () => {
  const channels = [
    { id: 'ch4', register: 'concentration' },
    { id: 'temp', register: 'temperature' },
    { id: 'ch4_narrow', register: 'concentration', range: { min: 0, max: 10 } },
  ];

  it('computes a plan once per channel set and reuses it', () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', channels));
    const first = device.planPoll(['ch4', 'temp']);
    expect(device.planPoll(['ch4', 'temp'])).toBe(first);
    expect(device.planPoll(['temp'])).not.toBe(first);
    expect(first).toMatchObject({ deviceId: 'dev1', channelIds: ['ch4', 'temp'] });
    expect(Object.isFrozen(first.blocks)).toBe(true);
  });

  it('decodes a copy of a plan the same way as the plan itself', () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', channels));
    const plan = device.planPoll(['temp', 'ch4']);
    const copy = { deviceId: plan.deviceId, blocks: [...plan.blocks], channelIds: [...plan.channelIds] };
    expect(device.decode(copy, [registers(...gasWords())], STAMP)).toEqual(device.decode(plan, [registers(...gasWords())], STAMP));
  });

  it('gives one reading per channel in the order of the plan, each with its own range', () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', channels));
    const readings = device.decode(device.planPoll(['ch4_narrow', 'temp', 'ch4']), [registers(...gasWords())], STAMP);
    expect(readings.map((r) => [r.channelId, r.value, r.reason])).toEqual([
      // 12.3 is above ch4_narrow's 0..10: over-range, kept (it was a fault before the over-range rule)
      ['ch4_narrow', 12.3, 'over-range'],
      ['temp', 23.5, undefined],
      ['ch4', 12.3, undefined],
    ]);
  });

  it('honours the device overrides of merging', () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', channels, { maxGap: 0 }));
    expect(device.planPoll(['ch4', 'temp']).blocks).toEqual([
      { fn: 3, address: 0, count: 2 },
      { fn: 3, address: 5, count: 1 },
      { fn: 3, address: 7, count: 1 },
    ]);
  });

  it('refuses unknown channels and registers', () => {
    const device = createProfileDevice(gasModule, siteDevice('gas-module-10reg', channels));
    expect(() => device.planPoll(['nope'])).toThrow(/no channel "nope"/);
    expect(() => createProfileDevice(gasModule, siteDevice('gas-module-10reg', [{ id: 'x', register: 'nope' }]))).toThrow(
      /no register "nope"/,
    );
  });
});
