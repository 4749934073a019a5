import { describe, expect, it } from 'vitest';
import type { CheckResult, ConfigError } from '../../config/index.js';
import { loadSiteText } from '../../config/index.js';
import { errorAt, fixtureProfiles, positionOf } from './helpers.js';

const FILE = '/srv/sites/safety.yaml';

function check(text: string): CheckResult {
  return loadSiteText(text, FILE, { profileDirs: [fixtureProfiles] });
}

function errorsOf(text: string): ConfigError[] {
  const result = check(text);
  expect(result.ok, 'the site should be rejected').toBe(false);
  return result.ok ? [] : result.errors;
}

/** Replaces exactly one occurrence, so a test cannot silently edit nothing. */
function edit(text: string, from: string, to: string): string {
  expect(text.split(from).length - 1, `"${from}" should occur once`).toBe(1);
  return text.replace(from, to);
}

function expectAt(error: ConfigError, text: string, needle: string, occurrence = 0): void {
  expect({ file: error.file, line: error.line, column: error.column }).toEqual({
    file: FILE,
    ...positionOf(text, needle, occurrence),
  });
}

// fixture-gas reports no unit for its concentration, so the gas channels state theirs.
const VALID = `site: { id: s1, name: Safety test site, kind: septic-tank }
buses:
  - id: rs485
    serial: { path: /dev/vigil-test-port-a }
devices:
  - id: ch4
    bus: rs485
    unit: 1
    profile: fixture-gas
    channels:
      - id: tank.ch4
        register: concentration
        unit: "%LEL"
        alarm:
          gas: ch4
      - { id: tank.temp, register: temperature }
  - id: h2s
    bus: rs485
    unit: 2
    profile: fixture-gas
    channels:
      - id: tank.h2s
        register: concentration
        unit: ppm
        alarm: { gas: h2s }
  - id: crack
    bus: rs485
    unit: 3
    profile: fixture-crack
    interval: 30m
    channels:
      - id: rock.crack
        register: displacement
        crack:
          cumulative: { yellow: 10, orange: 20, red: 40 }
  - id: relays
    bus: rs485
    unit: 10
    profile: fixture-relays
    channels:
      - { id: tank.fan, register: relay_1 }
      - { id: tank.fan.running, register: input_1 }
gpio:
  inputs:
    - { id: tank.lid, line: { line: GPIO17 } }
    - { id: rain.tips, line: { line: GPIO27 }, kind: counter, perPulse: 0.2 }
outputs:
  - id: fan
    kind: fan
    modbus: { device: relays, register: relay_1 }
    when:
      any:
        - { alarm: L1, channels: ["tank.*"] }
        - { fault: true, channels: [tank.ch4, tank.h2s] }
    feedback: { channel: tank.fan.running }
  - id: siren
    kind: sounder
    modbus: { device: relays, register: relay_2 }
    when:
      any:
        - { alarm: L2, channels: [tank.ch4] }
        - { crack: orange, channels: [rock.crack] }
        - { input: tank.lid, is: on }
  - id: ok
    kind: healthy
    gpio: { line: GPIO22 }
`;

const H2S_ALARM = 'alarm: { gas: h2s }';
const CH4 = 'devices[0].channels[0]';
const H2S = 'devices[1].channels[0]';
const CRACK = 'devices[2].channels[0]';

describe('a valid site with alarms, crack grades, outputs and GPIO', () => {
  it('loads without errors or warnings, with the safety defaults applied', () => {
    const result = check(VALID);
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    if (!result.ok) return;
    const fan = result.site.outputs[0]!;
    expect(fan).toMatchObject({ kind: 'fan', minOn: 600_000, minOff: 120_000, maxOverride: 28_800_000 });
    expect(result.site.gpio?.inputs[0]).toMatchObject({ kind: 'contact', debounce: 50 });
  });

  it('a gas level written without a setpoint takes it from the gas default', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: h2s, L1: { delayOn: { samples: 3 } } }');
    expect(check(text).ok).toBe(true);
  });
});

describe('channel alarm levels', () => {
  it('a band needs low below high', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { L1: { direction: band, low: 23.5, high: 19.5 } }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.L1.high`);
    expectAt(error, text, '19.5');
    expect(error).toMatchObject({ message: 'L1 band needs low below high, got low 23.5 and high 19.5', hint: 'swap them' });
  });

  it('a band with a deadband of half its width or more never clears', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { L1: { direction: band, low: 19.5, high: 23.5, deadband: 2 } }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.L1.deadband`);
    expect(error.message).toBe('L1 band 19.5–23.5 with a deadband of 2 never clears: no value is inside both clear limits');
  });

  it('a rising level without a setpoint, when no gas gives one', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { L1: { direction: rising, delayOn: 5s } }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.L1`);
    expectAt(error, text, '{ direction: rising');
    expect(error).toMatchObject({ message: 'L1 is rising and needs a setpoint', hint: 'write "setpoint: N"' });
  });

  it('a gas default of another direction does not fill a level: O2 L1 is a band', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: o2, L1: { direction: rising } }').replace('unit: ppm', 'unit: "%vol"');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.L1`);
    expect(error.message).toBe('L1 is rising and needs a setpoint');
    expect(error.hint).toBe('the o2 default is a band 19.5–23.5 %vol, which does not apply to a rising level');
  });

  it('an alarm without gas needs L1 or L2', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { faultAfter: 5 }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm`);
    expectAt(error, text, 'alarm: { faultAfter');
    expect(error.message).toBe('an alarm without "gas" needs L1 or L2: there are no default levels to fall back on');
  });

  it('L1 above the default L2 of a rising gas alarm, at the written setpoint', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: h2s, L1: { setpoint: 20 } }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.L1.setpoint`);
    expectAt(error, text, '20 }');
    expect(error.message).toBe('L1 (20) must be below L2 (14, the h2s default) for a rising alarm');
  });

  it('L1 below L2 for a falling alarm is refused at L2', () => {
    const text = edit(
      VALID,
      H2S_ALARM,
      'alarm: { L1: { direction: falling, setpoint: 18 }, L2: { direction: falling, setpoint: 19.5 } }',
    );
    const error = errorAt(errorsOf(text), `${H2S}.alarm.L2.setpoint`);
    expectAt(error, text, '19.5');
    expect(error.message).toBe('L1 (18) must be above L2 (19.5) for a falling alarm');
  });

  it('an L2 inside the O2 band is refused', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: o2, L2: { setpoint: 20 } }').replace('unit: ppm', 'unit: "%vol"');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.L2.setpoint`);
    expect(error.message).toBe('L2 (20) must be below the low end of the L1 band (19.5, the o2 default)');
  });

  it('a rising deadband as large as the setpoint never clears', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: h2s, L1: { deadband: 7 } }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.L1.deadband`);
    expect(error.message).toMatch(/^a deadband of 7 on a setpoint of 7 never clears/);
  });

  it('lelBasis is for methane only', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: h2s, lelBasis: 5 }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.lelBasis`);
    expectAt(error, text, 'lelBasis');
    expect(error.message).toBe('lelBasis is for methane only; this channel measures h2s');
  });

  it('a misspelt setpoint unit gets the closest usable one', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: h2s, setpointUnit: ppn }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.setpointUnit`);
    expectAt(error, text, 'ppn');
    expect(error).toMatchObject({ message: 'h2s setpoints cannot be written in "ppn"', hint: 'did you mean "ppm"?' });
  });

  it('mg/m3 setpoints are fine for H2S, not for methane', () => {
    expect(check(edit(VALID, H2S_ALARM, 'alarm: { gas: h2s, setpointUnit: mg/m3 }')).ok).toBe(true);
    const text = edit(VALID, 'gas: ch4', 'gas: ch4\n          setpointUnit: mg/m3');
    expect(errorAt(errorsOf(text), `${CH4}.alarm.setpointUnit`).hint).toBe('use %LEL, %vol, ppm, ppb');
  });

  it('a gas alarm on a register that reports no unit, with no unit on the channel: state the unit', () => {
    const text = edit(VALID, '        unit: ppm\n', '');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.gas`);
    expectAt(error, text, 'h2s }');
    expect(error.message).toMatch(/^state the unit: register "concentration" of profile "fixture-gas" does not report one/);
    expect(error.hint).toBe('add "unit: ppm" (or what the probe reports: %vol, ppm, ppb, mg/m3) to the channel');
  });

  it('readings in a unit that cannot be converted to the setpoints', () => {
    const text = edit(VALID, 'unit: ppm', 'unit: "%LEL"');
    const error = errorAt(errorsOf(text), `${H2S}.unit`);
    expect(error.message).toBe('readings in "%LEL" cannot be compared with the h2s setpoints (ppm)');
    expect(error.hint).toBe('comparable units: %vol, ppm, ppb, mg/m3');
  });

  it('a methane probe in %vol is compared through the LEL basis', () => {
    expect(check(edit(VALID, 'unit: "%LEL"', 'unit: "%vol"')).ok).toBe(true);
  });

  it('an accelerate device that does not exist gets the closest id', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: h2s, accelerate: [h2s, h2z] }');
    const error = errorAt(errorsOf(text), `${H2S}.alarm.accelerate[1]`);
    expectAt(error, text, 'h2z');
    expect(error).toMatchObject({ message: 'no device "h2z"', hint: 'did you mean "h2s"?' });
  });
});

describe('crack grading', () => {
  const CUMULATIVE = 'cumulative: { yellow: 10, orange: 20, red: 40 }';

  it('thresholds must rise with the grade', () => {
    const text = edit(VALID, CUMULATIVE, 'cumulative: { yellow: 10, orange: 5, red: 40 }');
    const error = errorAt(errorsOf(text), `${CRACK}.crack.cumulative.orange`);
    expectAt(error, text, '5, red');
    expect(error).toMatchObject({
      message: 'orange (5) must be above yellow (10)',
      hint: 'grades rise in the order blue < yellow < orange < red',
    });
  });

  it('a written tangent angle is checked against the default next to it', () => {
    const text = edit(VALID, CUMULATIVE, 'tangent: { steadyVelocity: 0.2, orange: 86 }');
    const error = errorAt(errorsOf(text), `${CRACK}.crack.tangent.orange`);
    expect(error.message).toBe('orange (86) must be below red (85, the default)');
  });

  it('at least one criterion, and a criterion that grades something', () => {
    const none = edit(VALID, CUMULATIVE, 'baseline: 12.5');
    const error = errorAt(errorsOf(none), `${CRACK}.crack`);
    expectAt(error, none, 'crack:');
    expect(error.message).toBe('crack grading needs at least one criterion: cumulative, rate or tangent');

    const empty = edit(VALID, CUMULATIVE, 'rate: { window: 1h, per: d }');
    expect(errorAt(errorsOf(empty), `${CRACK}.crack.rate`).message).toBe(
      'rate grades nothing: give at least one of blue, yellow, orange, red (in mm per d)',
    );
  });

  it('a rate window of 0 holds no readings; one shorter than the interval is a warning', () => {
    const zero = edit(VALID, CUMULATIVE, 'rate: { window: 0s, red: 5 }');
    expect(errorAt(errorsOf(zero), `${CRACK}.crack.rate.window`).message).toBe('a window of 0 holds no readings');

    const short = check(edit(VALID, CUMULATIVE, 'rate: { window: 10m, red: 5 }'));
    expect(short.ok).toBe(true);
    expect(short.warnings.map((w) => w.path)).toEqual([`${CRACK}.crack.rate.window`]);
  });

  it('crack grading on a value that is not a length', () => {
    const text = edit(VALID, '{ id: tank.temp, register: temperature }', '{ id: tank.temp, register: temperature, crack: { cumulative: { red: 4 } } }');
    const error = errorAt(errorsOf(text), 'devices[0].channels[1].crack');
    expect(error.message).toBe('crack grades are in mm, but this channel reports "°C"');
  });

  it('an accelerate device that does not exist', () => {
    const text = edit(VALID, CUMULATIVE, `${CUMULATIVE}\n          accelerate: [crak]`);
    expect(errorAt(errorsOf(text), `${CRACK}.crack.accelerate[0]`)).toMatchObject({
      message: 'no device "crak"',
      hint: 'did you mean "crack"?',
    });
  });
});

describe('outputs', () => {
  it('ids unique, and not the id of a channel', () => {
    const text = edit(edit(VALID, '  - id: siren', '  - id: fan'), '  - id: ok', '  - id: tank.fan');
    const errors = errorsOf(text);
    const twice = errorAt(errors, 'outputs[1].id');
    expectAt(twice, text, 'fan\n', 2);
    expect(twice).toMatchObject({ message: 'output id "fan" is used twice', hint: `first at line ${positionOf(text, '  - id: fan').line}` });
    expect(errorAt(errors, 'outputs[2].id').message).toBe('output id "tank.fan" is already a channel id');
  });

  it('exactly one of modbus and gpio', () => {
    const neither = edit(VALID, '    gpio: { line: GPIO22 }\n', '');
    const error = errorAt(errorsOf(neither), 'outputs[2]');
    expectAt(error, neither, 'id: ok');
    expect(error.message).toBe('an output needs "modbus" (a relay board coil) or "gpio" (a line of the gateway)');

    const both = edit(VALID, '    gpio: { line: GPIO22 }\n', '    gpio: { line: GPIO22 }\n    modbus: { device: relays, register: relay_2 }\n');
    const twice = errorsOf(both);
    expect(errorAt(twice, 'outputs[2].gpio').message).toBe('an output is driven either through "modbus" or through "gpio", not both');
  });

  it('a Modbus device or register that does not exist gets the closest name', () => {
    const device = edit(VALID, '{ device: relays, register: relay_1 }', '{ device: relay, register: relay_1 }');
    const error = errorAt(errorsOf(device), 'outputs[0].modbus.device');
    expectAt(error, device, 'relay,');
    expect(error).toMatchObject({ message: 'no device "relay"', hint: 'did you mean "relays"?' });

    const register = edit(VALID, '{ device: relays, register: relay_1 }', '{ device: relays, register: realy_1 }');
    expect(errorAt(errorsOf(register), 'outputs[0].modbus.register')).toMatchObject({
      message: 'profile "fixture-relays" of device "relays" has no register "realy_1"',
      hint: 'did you mean "relay_1"?',
    });
  });

  it('a register that cannot be switched: a discrete input, a read-only holding register', () => {
    const input = edit(VALID, '{ device: relays, register: relay_1 }', '{ device: relays, register: input_1 }');
    expect(errorAt(errorsOf(input), 'outputs[0].modbus.register')).toMatchObject({
      message: 'register "input_1" is a discrete input (fn 2): read-only on every Modbus device',
      hint: 'switchable here: relay_1, relay_2',
    });
    const readOnly = edit(VALID, '{ device: relays, register: relay_1 }', '{ device: ch4, register: status }');
    expect(errorAt(errorsOf(readOnly), 'outputs[0].modbus.register').message).toBe(
      'register "status" is not writable in profile "fixture-gas"',
    );
  });

  it('two outputs on one coil', () => {
    const text = edit(VALID, '{ device: relays, register: relay_2 }', '{ device: relays, register: relay_1 }');
    const error = errorAt(errorsOf(text), 'outputs[1].modbus.register');
    expectAt(error, text, 'relay_1 }', 2);
    expect(error.message).toBe('relay_1 of device "relays" is already driven by output "fan"');
  });

  it('"when" is required, except for the healthy output, which takes none', () => {
    const missing = VALID.slice(0, VALID.indexOf('  - id: siren')).replace(/ {4}when:[\s\S]*?(?= {4}feedback)/, '');
    const error = errorAt(errorsOf(missing), 'outputs[0].when');
    expectAt(error, missing, 'id: fan');
    expect(error.message).toBe('missing "when": a fan output needs the rule that switches it on');

    const healthy = `${VALID}    when: { any: [ { fault: true, channels: [tank.ch4] } ] }\n`;
    const extra = errorAt(errorsOf(healthy), 'outputs[2].when');
    expectAt(extra, healthy, 'when', 2);
    expect(extra.hint).toBe('remove "when"');
  });

  it('a selector that matches nothing: did you mean, for an id and for a pattern', () => {
    const text = edit(edit(VALID, '[tank.ch4, tank.h2s]', '[tank.ch5, tank.h2s]'), '["tank.*"]', '["tnak.*"]');
    const errors = errorsOf(text);
    const id = errorAt(errors, 'outputs[0].when.any[1].channels[0]');
    expectAt(id, text, 'tank.ch5');
    expect(id).toMatchObject({ message: 'no channel is called "tank.ch5"', hint: 'did you mean "tank.ch4"?' });
    const pattern = errorAt(errors, 'outputs[0].when.any[0].channels[0]');
    expectAt(pattern, text, '"tnak.*"');
    expect(pattern).toMatchObject({ message: 'no channel matches "tnak.*"', hint: 'did you mean "tank.*"?' });
  });

  it('a GPIO input id is a channel a rule can name', () => {
    const text = edit(VALID, '{ fault: true, channels: [tank.ch4, tank.h2s] }', '{ fault: true, channels: [tank.ch4, tank.h2s, tank.lid] }');
    expect(check(text).ok).toBe(true);
  });

  it('an alarm rule on channels without alarm levels can never fire', () => {
    const text = edit(VALID, '{ alarm: L2, channels: [tank.ch4] }', '{ alarm: L2, channels: [tank.temp, "tank.fan*"] }');
    const errors = errorsOf(text);
    expect(errorAt(errors, 'outputs[1].when.any[0].channels[0]').message).toBe('"tank.temp" has no alarm levels, so this can never fire');
    expect(errorAt(errors, 'outputs[1].when.any[0].channels[1]').message).toBe(
      'none of the 2 channels matching "tank.fan*" has alarm levels, so this can never fire',
    );
  });

  it('an L2 rule on a channel with only L1 is a warning: only over-range can fire it', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { L1: { setpoint: 7 } }').replace('{ alarm: L2, channels: [tank.ch4] }', '{ alarm: L2, channels: [tank.h2s] }');
    const result = check(text);
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({
      path: 'outputs[1].when.any[0].channels[0]',
      message: '"tank.h2s" has no L2 level: only an over-range reading can fire this',
    });
  });

  it('a crack rule above every grade the channel has can never fire', () => {
    const text = edit(VALID, 'cumulative: { yellow: 10, orange: 20, red: 40 }', 'cumulative: { blue: 5, yellow: 10 }');
    const error = errorAt(errorsOf(text), 'outputs[1].when.any[1].channels[0]');
    expect(error.message).toBe('"rock.crack" has no orange or red threshold, so this can never fire');
  });

  it('input conditions and feedback name contacts', () => {
    const counter = edit(VALID, '{ input: tank.lid, is: on }', '{ input: rain.tips, is: on }');
    expect(errorAt(errorsOf(counter), 'outputs[1].when.any[2].input')).toMatchObject({
      message: '"rain.tips" is a pulse counter, not a contact',
    });

    const value = edit(VALID, '{ input: tank.lid, is: on }', '{ input: tank.temp, is: on }');
    expect(errorAt(errorsOf(value), 'outputs[1].when.any[2].input').message).toBe(
      '"tank.temp" is not a contact: register "temperature" is a u16 value',
    );

    const misspelt = edit(VALID, '{ input: tank.lid, is: on }', '{ input: tank.lidd, is: on }');
    const error = errorAt(errorsOf(misspelt), 'outputs[1].when.any[2].input');
    expectAt(error, misspelt, 'tank.lidd');
    expect(error).toMatchObject({ message: 'no contact "tank.lidd"', hint: 'did you mean "tank.lid"?' });

    const feedback = edit(VALID, '{ channel: tank.fan.running }', '{ channel: tank.ch4 }');
    expect(errorAt(errorsOf(feedback), 'outputs[0].feedback.channel').message).toBe(
      '"tank.ch4" is not a contact: register "concentration" is a u16 value',
    );
  });

  it('interlock selectors must match channels with alarm levels', () => {
    const text = edit(VALID, '    feedback: { channel: tank.fan.running }\n', '    interlock: { alarm: L2, channels: [tank.c4] }\n');
    expect(errorAt(errorsOf(text), 'outputs[0].interlock.channels[0]')).toMatchObject({
      message: 'no channel is called "tank.c4"',
      hint: 'did you mean "tank.ch4"?',
    });
  });

  it('an output held off for hours, an override that never ends or ends at once', () => {
    const text = edit(VALID, '    feedback: { channel: tank.fan.running }\n', '    minOff: 2h\n    maxOverride: 2d\n')
      .replace('    modbus: { device: relays, register: relay_2 }\n', '    modbus: { device: relays, register: relay_2 }\n    maxOverride: 0s\n');
    const errors = errorsOf(text);
    expect(errorAt(errors, 'outputs[0].minOff').message).toBe('a minimum off-time above an hour keeps the output from its rule');
    expect(errorAt(errors, 'outputs[0].maxOverride').message).toBe('a manual override may last at most a day');
    expect(errorAt(errors, 'outputs[1].maxOverride').message).toBe(
      'maxOverride must be longer than 0: an override that expires at once cannot be used',
    );
  });

  it('the healthy output must drop when the agent cannot decide', () => {
    const text = `${VALID}    safeState: on\n`;
    expect(errorAt(errorsOf(text), 'outputs[2].safeState').message).toBe(
      'the healthy output must drop when the agent cannot decide: its safe state is off',
    );
  });

  it('a fan whose safe state is off is a warning', () => {
    const result = check(edit(VALID, '    kind: fan\n', '    kind: fan\n    safeState: off\n'));
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => w.path)).toEqual(['outputs[0].safeState']);
  });
});

describe('GPIO', () => {
  it('input ids unique and not a channel id', () => {
    const text = edit(VALID, '{ id: rain.tips,', '{ id: tank.lid,').replace('- { id: tank.lid, line: { line: GPIO17 } }', '- { id: tank.lid, line: { line: GPIO17 } }\n    - { id: tank.temp, line: { line: GPIO5 } }');
    const errors = errorsOf(text);
    expect(errorAt(errors, 'gpio.inputs[1].id').message).toBe('"tank.temp" is already a channel id');
    const twice = errorAt(errors, 'gpio.inputs[2].id');
    expect(twice).toMatchObject({ message: 'GPIO input id "tank.lid" is used twice', hint: `first at line ${positionOf(text, 'id: tank.lid').line}` });
  });

  it('two inputs, or an input and an output, on one line', () => {
    const text = edit(edit(VALID, 'line: { line: GPIO27 }', 'line: { line: GPIO17 }'), 'gpio: { line: GPIO22 }', 'gpio: { line: GPIO17 }');
    const errors = errorsOf(text);
    const input = errorAt(errors, 'gpio.inputs[1].line.line');
    expectAt(input, text, 'GPIO17', 1);
    expect(input.message).toBe('GPIO line "GPIO17" is already used by input "tank.lid"');
    expect(errorAt(errors, 'outputs[2].gpio.line').message).toBe('GPIO line "GPIO17" is already used by input "tank.lid"');
  });

  it('offsets on named and unnamed chips: the same line unless both chips are named and differ', () => {
    const clash = edit(edit(VALID, '{ line: GPIO17 }', '{ chip: pinctrl-bcm2711, line: 17 }'), 'gpio: { line: GPIO22 }', 'gpio: { line: 17 }');
    expect(errorAt(errorsOf(clash), 'outputs[2].gpio.line').hint).toMatch(/name the chip on both$/);
    const apart = edit(edit(VALID, '{ line: GPIO17 }', '{ chip: pinctrl-bcm2711, line: 17 }'), 'gpio: { line: GPIO22 }', 'gpio: { chip: gpio-expander, line: 17 }');
    expect(check(apart).ok).toBe(true);
  });

  it('perPulse is for counters', () => {
    const text = edit(VALID, '{ id: tank.lid, line: { line: GPIO17 } }', '{ id: tank.lid, line: { line: GPIO17 }, perPulse: 2 }');
    const error = errorAt(errorsOf(text), 'gpio.inputs[0].perPulse');
    expectAt(error, text, 'perPulse: 2');
  });
});

describe('all at once', () => {
  it('mistakes across alarms, crack grades, outputs and GPIO all come out together, in file order', () => {
    const text = edit(VALID, H2S_ALARM, 'alarm: { gas: h2s, L1: { setpoint: 20 } }')
      .replace('cumulative: { yellow: 10, orange: 20, red: 40 }', 'cumulative: { yellow: 10, orange: 5 }')
      .replace('line: { line: GPIO27 }', 'line: { line: GPIO17 }')
      .replace('[tank.ch4, tank.h2s]', '[tank.ch5]')
      .replace('{ alarm: L2, channels: [tank.ch4] }', '{ alarm: L3, channels: [tank.ch4] }');
    const errors = errorsOf(text);
    expect(errors.map((e) => e.path)).toEqual([
      `${H2S}.alarm.L1.setpoint`,
      `${CRACK}.crack.cumulative.orange`,
      'gpio.inputs[1].line.line',
      'outputs[0].when.any[1].channels[0]',
      'outputs[1].when.any[0].alarm',
    ]);
  });
});
