// The defaults table and the unit rules are the safety side's own: the check must accept exactly what the alarm
// engine can act on (it holds a channel it cannot act on in fault). Both modules import only types from config.
import type { DefaultLevel, Direction } from '../../agent/safety/alarms/gas-defaults.js';
import { BAND_DEADBAND_FRACTION, GAS_DEFAULTS } from '../../agent/safety/alarms/gas-defaults.js';
import type { UnitContext } from '../../agent/safety/alarms/units.js';
import { DEFAULT_LEL_BASIS, canonicalUnit, conversion } from '../../agent/safety/alarms/units.js';
import type { ProfileRegister } from '../schema/profile.js';
import type { AlarmLevelName, GasKind } from '../schema/safety.js';
import { gasKind } from '../schema/safety.js';
import type { PathSegment } from './config-error.js';
import type { Fields } from './lenient.js';
import { fieldsOf, has, isFields, numberField, textField } from './lenient.js';
import type { ChannelEntry, Reporter } from './site-index.js';
import { didYouMean } from './suggest.js';

/**
 * The checks on a channel's `alarm` that the schema cannot express: every level is complete (written or from
 * the gas defaults), L2 is a more severe version of L1, every level can clear again, and the readings can be
 * compared with the setpoints at all — a probe whose unit nobody knows cannot be held against "20 %LEL".
 */

const LEVELS: readonly AlarmLevelName[] = ['L1', 'L2'];
const DIRECTIONS: readonly string[] = ['rising', 'falling', 'band'];
/** The units gas setpoints are written in, in the order a hint lists them. */
const GAS_UNITS = ['%LEL', '%vol', 'ppm', 'ppb', 'mg/m3'] as const;

/** A level as the alarm engine will use it: what was written, completed from the gas default. */
interface EffectiveLevel {
  name: AlarmLevelName;
  direction: Direction;
  setpoint?: number;
  low?: number;
  high?: number;
  written: boolean;
  /** Where to point when this level is out of order with the other: the written number, else the level. */
  blame: PathSegment[];
}

type At = (...rest: PathSegment[]) => PathSegment[];

export function checkChannelAlarm(channel: ChannelEntry, report: Reporter): void {
  const at: At = (...rest) => [...channel.path, 'alarm', ...rest];
  const alarm = fieldsOf(channel.raw.alarm);
  const gasText = textField(alarm, 'gas');
  const gas = gasKind.safeParse(gasText).success ? (gasText as GasKind) : undefined;
  // A gas the schema refused: its defaults are unknown, so say nothing that depends on them.
  const gasUnknown = has(alarm, 'gas') && gas === undefined;

  if (!has(alarm, 'gas') && !has(alarm, 'L1') && !has(alarm, 'L2')) {
    report.error(
      at(),
      'an alarm without "gas" needs L1 or L2: there are no default levels to fall back on',
      `write "gas: ch4" (or ${gasKind.options.filter((g) => g !== 'ch4').join(', ')}) for the default levels, ` +
        'or give L1/L2',
      'key',
    );
  }
  if (has(alarm, 'lelBasis') && gas !== 'ch4' && !gasUnknown) {
    report.error(
      at('lelBasis'),
      gas === undefined
        ? 'lelBasis only applies with "gas: ch4"'
        : `lelBasis is for methane only; this channel measures ${gas}`,
      "it converts a methane probe's %vol to %LEL; remove it here",
      'key',
    );
  }
  if (gasUnknown) return;

  const units: UnitContext = {};
  if (gas) units.gas = gas;
  if (gas === 'ch4') units.lelBasis = numberField(alarm, 'lelBasis') ?? DEFAULT_LEL_BASIS;
  const writtenUnit = textField(alarm, 'setpointUnit');
  const setpointUnit = writtenUnit ?? (gas ? GAS_DEFAULTS[gas].setpointUnit : undefined);

  let defaults: Partial<Record<AlarmLevelName, DefaultLevel>> = {};
  if (gas && setpointUnit !== undefined) {
    const inUnit = defaultLevelsIn(gas, setpointUnit, units);
    if (inUnit) {
      defaults = inUnit;
    } else {
      const usable = GAS_UNITS.filter((unit) => defaultLevelsIn(gas, unit, units));
      const message = `${gas} setpoints cannot be written in "${setpointUnit}"`;
      report.error(at('setpointUnit'), message, unitHint(setpointUnit, usable, 'use'));
      return;
    }
  }

  const shownUnit = setpointUnit ?? channelUnit(channel) ?? '';
  const levels = new Map<AlarmLevelName, EffectiveLevel>();
  for (const name of LEVELS) {
    const level = effectiveLevel(name, alarm, defaults[name], gas, shownUnit, at, report);
    if (level) levels.set(name, level);
  }
  const l1 = levels.get('L1');
  const l2 = levels.get('L2');
  if (l1 && l2) checkOrder(l1, l2, gas, report);

  if (setpointUnit !== undefined) {
    checkReadingUnit(channel, setpointUnit, gas, units, writtenUnit !== undefined, report);
  }
}

/** The gas defaults in the unit the setpoints are written in (as the alarm engine converts them), or undefined. */
function defaultLevelsIn(
  gas: GasKind,
  unit: string,
  units: UnitContext,
): Record<AlarmLevelName, DefaultLevel> | undefined {
  const defaults = GAS_DEFAULTS[gas];
  const wanted = canonicalUnit(unit);
  if (wanted === canonicalUnit(defaults.setpointUnit)) return { ...defaults.levels };
  const alternative = defaults.alternatives?.[wanted];
  if (alternative) return { ...alternative };
  const converted = conversion(defaults.setpointUnit, unit, units, 'setpoints');
  if ('error' in converted) return undefined;
  const scale = (level: DefaultLevel): DefaultLevel => {
    const out: DefaultLevel = { direction: level.direction };
    for (const key of ['setpoint', 'low', 'high', 'deadband'] as const) {
      const value = level[key];
      if (value !== undefined) out[key] = round(value * converted.factor);
    }
    return out;
  };
  return { L1: scale(defaults.levels.L1), L2: scale(defaults.levels.L2) };
}

function effectiveLevel(
  name: AlarmLevelName,
  alarm: Fields,
  fallback: DefaultLevel | undefined,
  gas: GasKind | undefined,
  unit: string,
  at: At,
  report: Reporter,
): EffectiveLevel | undefined {
  if (!has(alarm, name)) {
    if (!fallback) return undefined;
    return { name, ...fallback, written: false, blame: at() };
  }
  if (!isFields(alarm[name])) return undefined;
  const raw = alarm[name];
  const written = textField(raw, 'direction');
  if (written !== undefined && !DIRECTIONS.includes(written)) return undefined;
  const direction = (written ?? fallback?.direction ?? 'rising') as Direction;
  // The default fills in only a level that points the same way: "L1: { direction: rising }" on O2 does not
  // borrow from the default band.
  const base = fallback?.direction === direction ? fallback : undefined;
  const level: EffectiveLevel = { name, direction, written: true, blame: at(name) };

  if (direction === 'band') {
    if (has(raw, 'setpoint')) {
      const message = 'a band alarms outside low..high and has no setpoint';
      report.error(at(name, 'setpoint'), message, 'write "low" and "high"', 'key');
    }
    level.low = numberField(raw, 'low') ?? base?.low;
    level.high = numberField(raw, 'high') ?? base?.high;
    const missing = (['low', 'high'] as const).filter((key) => level[key] === undefined && !has(raw, key));
    if (missing.length > 0) {
      const hint = fallback && !base ? `${defaultText(gas, fallback, unit)}, so it does not fill a band` : undefined;
      report.error(at(name), `${name} is a band and needs ${missing.map((key) => `"${key}"`).join(' and ')}`, hint);
      return undefined;
    }
    if (level.low === undefined || level.high === undefined) return undefined;
    if (level.low >= level.high) {
      report.error(
        has(raw, 'high') ? at(name, 'high') : at(name, 'low'),
        `${name} band needs low below high, got low ${level.low} and high ${level.high}`,
        has(raw, 'low') && has(raw, 'high') ? 'swap them' : undefined,
      );
      return undefined;
    }
    const width = level.high - level.low;
    const deadband = numberField(raw, 'deadband') ?? base?.deadband ?? width * BAND_DEADBAND_FRACTION;
    if (2 * deadband >= width) {
      report.error(
        has(raw, 'deadband') ? at(name, 'deadband') : at(name),
        `${name} band ${level.low}–${level.high} with a deadband of ${deadband} never clears: ` +
          'no value is inside both clear limits',
        `keep the deadband below half the band (${round(width / 2)})`,
      );
    }
    level.blame = has(raw, 'low') ? at(name, 'low') : has(raw, 'high') ? at(name, 'high') : at(name);
    return level;
  }

  for (const key of ['low', 'high'] as const) {
    if (has(raw, key)) {
      report.error(
        at(name, key),
        `"${key}" is for direction: band; a ${direction} level alarms at its setpoint`,
        'write "setpoint", or set "direction: band"',
        'key',
      );
    }
  }
  level.setpoint = numberField(raw, 'setpoint') ?? base?.setpoint;
  if (level.setpoint === undefined) {
    if (!has(raw, 'setpoint')) {
      const hint =
        fallback && !base
          ? `${defaultText(gas, fallback, unit)}, which does not apply to a ${direction} level`
          : 'write "setpoint: N"';
      report.error(at(name), `${name} is ${direction} and needs a setpoint`, hint);
    }
    return undefined;
  }
  if (has(raw, 'setpoint')) level.blame = at(name, 'setpoint');

  // A gas reading does not go below 0: a rising level whose clear limit is at or below 0 never clears.
  const deadband = numberField(raw, 'deadband');
  if (gas && direction === 'rising' && deadband !== undefined && deadband >= level.setpoint) {
    report.error(
      at(name, 'deadband'),
      `a deadband of ${deadband} on a setpoint of ${level.setpoint} never clears: ` +
        `the ${gas} reading would have to fall below ${round(level.setpoint - deadband)}`,
      `the default is 20 % of the setpoint (${round(level.setpoint * 0.2)})`,
    );
  }
  return level;
}

/** L2 is a more severe L1: wherever L2 alarms, L1 alarms too (a latched L2 clears only once back under L1). */
function checkOrder(l1: EffectiveLevel, l2: EffectiveLevel, gas: GasKind | undefined, report: Reporter): void {
  const shown = (level: EffectiveLevel, value: number | undefined): string =>
    `${value}${level.written ? '' : `, the ${gas} default`}`;
  const blame = l2.written ? l2.blame : l1.blame;
  const fail = (message: string): void => report.error(blame, message, 'L1 is the warning, L2 the more severe alarm');

  if (l1.direction === 'rising' && l2.direction === 'rising') {
    if (l1.setpoint! >= l2.setpoint!) {
      fail(`L1 (${shown(l1, l1.setpoint)}) must be below L2 (${shown(l2, l2.setpoint)}) for a rising alarm`);
    }
  } else if (l1.direction === 'falling' && l2.direction === 'falling') {
    if (l1.setpoint! <= l2.setpoint!) {
      fail(`L1 (${shown(l1, l1.setpoint)}) must be above L2 (${shown(l2, l2.setpoint)}) for a falling alarm`);
    }
  } else if (l1.direction === 'band') {
    if (l2.direction === 'falling' && l2.setpoint! >= l1.low!) {
      fail(`L2 (${shown(l2, l2.setpoint)}) must be below the low end of the L1 band (${shown(l1, l1.low)})`);
    } else if (l2.direction === 'rising' && l2.setpoint! <= l1.high!) {
      fail(`L2 (${shown(l2, l2.setpoint)}) must be above the high end of the L1 band (${shown(l1, l1.high)})`);
    } else if (l2.direction === 'band') {
      const encloses = l2.low! <= l1.low! && l2.high! >= l1.high! && (l2.low! < l1.low! || l2.high! > l1.high!);
      if (!encloses) fail(`the L2 band (${l2.low}–${l2.high}) must enclose the L1 band (${l1.low}–${l1.high})`);
    }
  } else {
    fail(`L2 is ${l2.direction} but L1 is ${l1.direction}: L2 must be a more severe level of the same alarm`);
  }
}

/** The readings must arrive in a unit the setpoints can be converted from, by a rule the alarm engine knows. */
function checkReadingUnit(
  channel: ChannelEntry,
  setpointUnit: string,
  gas: GasKind | undefined,
  units: UnitContext,
  unitWritten: boolean,
  report: Reporter,
): void {
  const register = channel.register;
  if (!register) return;
  const comparable = (unit: string): boolean => !('error' in conversion(unit, setpointUnit, units, 'setpoints'));
  const what = gas ? `the ${gas} setpoints (${setpointUnit})` : `setpoints in ${setpointUnit}`;
  const usable = GAS_UNITS.filter(comparable);
  const stated = textField(channel.raw, 'unit');
  const unit = stated ?? register.unit;
  if (unit === undefined) {
    const reported = register.unitFrom ? Object.values(register.unitFrom.map) : [];
    if (reported.some(comparable)) return;
    const where = [...channel.path, 'alarm', unitWritten || !gas ? 'setpointUnit' : 'gas'];
    if (reported.length === 0) {
      report.error(
        where,
        `state the unit: register "${register.name}" of profile "${channel.profileId}" does not report one, ` +
          `so readings cannot be compared with ${what}`,
        `add "unit: ${setpointUnit}" (or what the probe reports${usable.length > 0 ? `: ${usable.join(', ')}` : ''}) ` +
          'to the channel',
      );
    } else {
      report.error(
        [...channel.path, 'register'],
        `register "${register.name}" reports ${reported.join(', ')}, none of which compares with ${what}`,
        'is this the right register, and the right gas?',
      );
    }
    return;
  }
  if (comparable(unit)) return;
  report.error(
    stated !== undefined ? [...channel.path, 'unit'] : [...channel.path, 'register'],
    `readings in "${unit}" cannot be compared with ${what}`,
    stated !== undefined
      ? unitHint(unit, usable, 'comparable units:')
      : `register "${register.name}" is in ${unit}: is it the concentration?`,
  );
}

/** "did you mean" only for a unit nobody knows (a typo); a real unit of the wrong kind gets the usable ones. */
function unitHint(unit: string, usable: readonly string[], lead: string): string | undefined {
  const known = GAS_UNITS.some((candidate) => canonicalUnit(candidate) === canonicalUnit(unit));
  const typo = known ? undefined : didYouMean(unit, usable);
  return typo ?? (usable.length > 0 ? `${lead} ${usable.join(', ')}` : undefined);
}

function channelUnit(channel: ChannelEntry): string | undefined {
  const register: ProfileRegister | undefined = channel.register;
  return textField(channel.raw, 'unit') ?? register?.unit;
}

function defaultText(gas: GasKind | undefined, level: DefaultLevel, unit: string): string {
  const shape =
    level.direction === 'band'
      ? `a band ${level.low}–${level.high} ${unit}`
      : `${level.direction} at ${level.setpoint} ${unit}`;
  return `the ${gas} default is ${shape}`;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
