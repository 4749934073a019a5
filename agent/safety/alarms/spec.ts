import type {
  AlarmDelay,
  AlarmLevelName,
  AlarmLevelSpec,
  Channel,
  ChannelAlarm,
  CrackWarning,
  Device,
  GasKind,
  Site,
} from '../../../config/schema/index.js';
import { formatDuration, formatNumber, withUnit } from './format.js';
import {
  BAND_DEADBAND_FRACTION,
  DEADBAND_FRACTION,
  GAS_DEFAULTS,
  GAS_DELAY_ON_MS,
  type DefaultLevel,
  type Direction,
} from './gas-defaults.js';
import { DEFAULT_LEL_BASIS, canonicalUnit, conversion, type UnitContext } from './units.js';

/**
 * A channel's alarm and crack settings, completed from the defaults and turned into what the state machines
 * need: numbers in one unit, delays as time or samples, and the rule texts every event carries.
 * Resolved once at start; nothing here runs per reading.
 */

export type Delay = { kind: 'time'; ms: number } | { kind: 'samples'; count: number };

export interface LevelSpec {
  name: AlarmLevelName;
  direction: Direction;
  /** rising / falling: alarm at or beyond this. */
  setpoint: number;
  /** band: alarm below low or above high. */
  low: number;
  high: number;
  /** How far back inside the setpoint the value must be to clear (absolute, in the setpoint unit). */
  deadband: number;
  delayOn: Delay;
  delayOff: Delay;
  latch: boolean;
  /** False for the L2 of a channel that configures none: only an over-range reading raises it. */
  fromValue: boolean;
  /** "tank1.ch4 ≥ 20 %LEL for 5 s (L1)" */
  raiseRule: string;
  /** "tank1.ch4 < 16 %LEL (L1 clears)" */
  clearRule: string;
  /** "< 16 %LEL": what a reading must show for this level to clear. */
  clearCondition: string;
}

export interface AlarmSpec {
  /** The unit setpoints are written in; undefined: the reading's own unit (a channel without gas or unit). */
  setpointUnit: string | undefined;
  units: UnitContext;
  L1?: LevelSpec;
  /** Always present: a channel without an L2 still goes to L2 on over-range. */
  L2: LevelSpec;
  overRangeRule: string;
  accelerate?: readonly string[];
}

export const GRADES = ['blue', 'yellow', 'orange', 'red'] as const;
/** Thresholds of blue, yellow, orange, red; undefined where a grade is not configured. */
export type GradeThresholds = readonly [number | undefined, number | undefined, number | undefined, number | undefined];

export interface CrackSpec {
  baseline: 'first-reading' | number;
  cumulative?: { thresholds: GradeThresholds };
  rate?: { windowMs: number; per: 'h' | 'd'; thresholds: GradeThresholds };
  tangent?: { steadyVelocity: number; windowMs: number; thresholds: GradeThresholds };
  /** How much history the rate and tangent windows need; 0 when neither is configured. */
  historySpanMs: number;
  accelerate?: readonly string[];
}

export interface ChannelSpec {
  channelId: string;
  deviceId: string;
  /** The unit the site file states for the channel; '' when the profile or the probe says it. */
  unit: string;
  faultAfter: number;
  stuckAfterMs?: number;
  /** No reading at all for this long is a fault (the poller or the bus is gone). */
  silentAfterMs: number;
  /** A warm-up longer than this is a fault: a probe stuck warming up must not suppress alarms for ever. */
  maxWarmUpMs: number;
  alarm?: AlarmSpec;
  crack?: CrackSpec;
  /** Settings the engine cannot act on; the channel is held in fault with them as the reason. */
  problems: string[];
}

/** Failed polls to a fault when the channel has no `alarm.faultAfter` (the schema's default). */
export const DEFAULT_FAULT_AFTER = 3;
/** The shortest silence that counts as a fault, whatever the poll interval. */
export const MIN_SILENT_MS = 10_000;
/**
 * The longest warm-up before the channel is in fault, where the channel sets no `maxWarmUp`. Catalytic and
 * electrochemical heads warm up in seconds to a few minutes; ten minutes is well past any of them.
 */
export const WARM_UP_LIMIT_MS = 10 * 60_000;

/**
 * The channel's `maxWarmUp` (ms), or `alarm.maxWarmUp`, where the site schema has one; else WARM_UP_LIMIT_MS.
 * Read defensively: the schema does not define it yet, and a value that is not a positive number is ignored.
 */
export function maxWarmUpMs(channel: Channel): number {
  const written = (channel as { maxWarmUp?: unknown }).maxWarmUp ?? (channel.alarm as { maxWarmUp?: unknown } | undefined)?.maxWarmUp;
  return typeof written === 'number' && Number.isFinite(written) && written > 0 ? written : WARM_UP_LIMIT_MS;
}

/** A channel is silent after faultAfter + 2 poll intervals with no reading at all (never below MIN_SILENT_MS). */
export function silentAfterMs(faultAfter: number, intervalMs: number): number {
  return Math.max(MIN_SILENT_MS, (faultAfter + 2) * intervalMs);
}

export function channelSpecs(site: Site): ChannelSpec[] {
  const specs: ChannelSpec[] = [];
  for (const device of site.devices) for (const channel of device.channels) specs.push(channelSpec(channel, device));
  return specs;
}

export function channelSpec(channel: Channel, device: Device): ChannelSpec {
  const problems: string[] = [];
  const faultAfter = channel.alarm?.faultAfter ?? DEFAULT_FAULT_AFTER;
  const spec: ChannelSpec = {
    channelId: channel.id,
    deviceId: device.id,
    unit: channel.unit ?? '',
    faultAfter,
    silentAfterMs: silentAfterMs(faultAfter, channel.interval ?? device.interval),
    maxWarmUpMs: maxWarmUpMs(channel),
    problems,
  };
  if (channel.alarm?.stuckAfter !== undefined) spec.stuckAfterMs = channel.alarm.stuckAfter;
  if (channel.alarm) spec.alarm = alarmSpec(channel.id, channel.alarm, channel.unit, problems);
  if (channel.crack) spec.crack = crackSpec(channel.crack, problems);
  return spec;
}

function alarmSpec(channelId: string, alarm: ChannelAlarm, channelUnit: string | undefined, problems: string[]): AlarmSpec | undefined {
  const gas = alarm.gas;
  const units: UnitContext = {};
  if (gas) units.gas = gas;
  if (gas === 'ch4') units.lelBasis = alarm.lelBasis ?? DEFAULT_LEL_BASIS;
  else if (alarm.lelBasis !== undefined) units.lelBasis = alarm.lelBasis;

  const setpointUnit = alarm.setpointUnit ?? (gas ? GAS_DEFAULTS[gas].setpointUnit : channelUnit);
  const unitText = setpointUnit ?? '';
  let defaults: Partial<Record<AlarmLevelName, DefaultLevel>> = {};
  if (gas) {
    const inUnit = defaultLevelsIn(gas, unitText, units);
    if (typeof inUnit === 'string') problems.push(inUnit);
    else defaults = inUnit;
  } else if (!alarm.L1 && !alarm.L2) {
    problems.push('an alarm without "gas" needs L1 or L2: there are no default levels to fall back on');
  }

  const resolved: Partial<Record<AlarmLevelName, LevelSpec>> = {};
  for (const name of ['L1', 'L2'] as const) {
    const level = resolveLevel(channelId, name, alarm[name], defaults[name], gas !== undefined, unitText);
    if (typeof level === 'string') problems.push(level);
    else if (level) resolved[name] = level;
  }
  const L2 = resolved.L2 ?? overRangeOnlyL2(channelId);
  const spec: AlarmSpec = {
    setpointUnit,
    units,
    L2,
    overRangeRule: `${channelId} over-range (L2, latched)`,
  };
  if (resolved.L1) {
    spec.L1 = resolved.L1;
    // A latched L2 clears only once the value is back below L1: say so in its rule.
    if (L2.latch) L2.clearRule = `${channelId} acknowledged and ${resolved.L1.clearCondition} (L2 clears)`;
  }
  if (alarm.accelerate) spec.accelerate = alarm.accelerate;
  return spec;
}

/** The gas defaults in the unit the channel writes its setpoints in, or why there are none. */
function defaultLevelsIn(gas: GasKind, unit: string, units: UnitContext): Record<AlarmLevelName, DefaultLevel> | string {
  const defaults = GAS_DEFAULTS[gas];
  const wanted = canonicalUnit(unit);
  if (wanted === canonicalUnit(defaults.setpointUnit)) return { ...defaults.levels };
  const alternative = defaults.alternatives?.[wanted];
  if (alternative) return { ...alternative };
  const converted = conversion(defaults.setpointUnit, unit, units, 'setpoints');
  if ('error' in converted) return `${gas} setpoints cannot be written in ${unit}: no default levels in that unit`;
  const scale = (x: number | undefined): number | undefined => (x === undefined ? undefined : x * converted.factor);
  const convertLevel = (level: DefaultLevel): DefaultLevel => {
    const out: DefaultLevel = { direction: level.direction };
    const keys = ['setpoint', 'low', 'high', 'deadband'] as const;
    for (const key of keys) {
      const value = scale(level[key]);
      if (value !== undefined) out[key] = value;
    }
    return out;
  };
  return { L1: convertLevel(defaults.levels.L1), L2: convertLevel(defaults.levels.L2) };
}

function toDelay(delay: AlarmDelay | undefined, fallbackMs: number): Delay {
  if (delay === undefined) return { kind: 'time', ms: fallbackMs };
  return typeof delay === 'number' ? { kind: 'time', ms: delay } : { kind: 'samples', count: delay.samples };
}

function delayText(delay: Delay): string {
  if (delay.kind === 'samples') return ` for ${delay.count} sample${delay.count === 1 ? '' : 's'}`;
  return delay.ms > 0 ? ` for ${formatDuration(delay.ms)}` : '';
}

/**
 * A written level completed from the gas default. The default fills in only a level that points the same way
 * ("L1: { direction: rising }" on O2 does not borrow from the default band), as the site-file checks do.
 */
function resolveLevel(
  channelId: string,
  name: AlarmLevelName,
  written: AlarmLevelSpec | undefined,
  fallback: DefaultLevel | undefined,
  isGas: boolean,
  unit: string,
): LevelSpec | string | undefined {
  if (!written && !fallback) return undefined;
  const direction: Direction = written?.direction ?? fallback?.direction ?? 'rising';
  const base = fallback?.direction === direction ? fallback : undefined;
  const show = (x: number): string => withUnit(x, unit);
  const delayOn = toDelay(written?.delayOn, isGas ? GAS_DELAY_ON_MS : 0);
  const delayOff = toDelay(written?.delayOff, 0);
  const latch = written?.latch ?? name === 'L2';
  const tag = `(${name}${latch ? ', latched' : ''})`;

  let setpoint = Number.NaN;
  let low = Number.NaN;
  let high = Number.NaN;
  let deadband: number;
  let raise: string;
  let clearCondition: string;
  if (direction === 'band') {
    const l = written?.low ?? base?.low;
    const h = written?.high ?? base?.high;
    if (l === undefined || h === undefined) return `${name} is a band and needs "low" and "high"`;
    if (l >= h) return `${name} band needs low below high, got low ${l} and high ${h}`;
    low = l;
    high = h;
    deadband = written?.deadband ?? base?.deadband ?? (high - low) * BAND_DEADBAND_FRACTION;
    if (2 * deadband >= high - low) {
      return `${name} band ${low}–${high} with a deadband of ${deadband} never clears: nothing is inside both clear limits`;
    }
    raise = `outside ${formatNumber(low)}–${show(high)}`;
    clearCondition = `inside ${formatNumber(low + deadband)}–${show(high - deadband)}`;
  } else {
    const s = written?.setpoint ?? base?.setpoint;
    if (s === undefined) return `${name} is ${direction} and needs a setpoint`;
    setpoint = s;
    deadband = written?.deadband ?? base?.deadband ?? Math.abs(setpoint) * DEADBAND_FRACTION;
    raise = `${direction === 'rising' ? '≥' : '≤'} ${show(setpoint)}`;
    clearCondition =
      direction === 'rising' ? `< ${show(setpoint - deadband)}` : `> ${show(setpoint + deadband)}`;
  }
  return {
    name,
    direction,
    setpoint,
    low,
    high,
    deadband,
    delayOn,
    delayOff,
    latch,
    fromValue: true,
    raiseRule: `${channelId} ${raise}${delayText(delayOn)} ${tag}`,
    clearRule: latch
      ? `${channelId} acknowledged and ${clearCondition} (${name} clears)`
      : `${channelId} ${clearCondition}${delayText(delayOff)} (${name} clears)`,
    clearCondition,
  };
}

/** The L2 of a channel that configures none: raised only by over-range, latched, cleared by acknowledgement. */
function overRangeOnlyL2(channelId: string): LevelSpec {
  return {
    name: 'L2',
    direction: 'rising',
    setpoint: Number.POSITIVE_INFINITY,
    low: Number.NaN,
    high: Number.NaN,
    deadband: 0,
    delayOn: { kind: 'time', ms: 0 },
    delayOff: { kind: 'time', ms: 0 },
    latch: true,
    fromValue: false,
    raiseRule: `${channelId} over-range (L2, latched)`,
    clearRule: `${channelId} acknowledged and not over-range (L2 clears)`,
    clearCondition: 'not over-range',
  };
}

function thresholds(source: Partial<Record<(typeof GRADES)[number], number>> | undefined): GradeThresholds {
  return [source?.blue, source?.yellow, source?.orange, source?.red];
}

function crackSpec(crack: CrackWarning, problems: string[]): CrackSpec {
  const spec: CrackSpec = { baseline: crack.baseline, historySpanMs: 0 };
  if (crack.cumulative) spec.cumulative = { thresholds: thresholds(crack.cumulative) };
  if (crack.rate) spec.rate = { windowMs: crack.rate.window, per: crack.rate.per, thresholds: thresholds(crack.rate) };
  if (crack.tangent) {
    spec.tangent = {
      steadyVelocity: crack.tangent.steadyVelocity,
      windowMs: crack.tangent.window,
      thresholds: thresholds(crack.tangent),
    };
  }
  for (const [name, criterion] of [
    ['cumulative', spec.cumulative],
    ['rate', spec.rate],
    ['tangent', spec.tangent],
  ] as const) {
    if (!criterion) continue;
    let previous = Number.NEGATIVE_INFINITY;
    for (const value of criterion.thresholds) {
      if (value === undefined) continue;
      if (value <= previous) problems.push(`crack ${name} thresholds must rise blue < yellow < orange < red`);
      previous = value;
    }
  }
  for (const window of [spec.rate?.windowMs, spec.tangent?.windowMs]) {
    if (window !== undefined && window <= 0) problems.push('a crack window of 0 holds no readings');
  }
  spec.historySpanMs = Math.max(spec.rate?.windowMs ?? 0, spec.tangent?.windowMs ?? 0);
  if (crack.accelerate) spec.accelerate = crack.accelerate;
  return spec;
}
