/**
 * The profile-driven Modbus device: plans the reads for a set of channels and turns the bus's answers into
 * readings. Everything that can be worked out from the profile and the site (dependencies, parsed expressions,
 * state maps, params) is worked out once when the device is created or a channel set is first planned, so a
 * poll only decodes. A failure is never a value: every path that cannot vouch for a number yields null with a
 * reason.
 */
import {
  isComputed,
  type ComputedRegister,
  type Device,
  type DeviceState,
  type Profile,
  type ProfileRegister,
  type ReadRegister,
  type StateMap,
} from '../../config/schema/index.js';
import type { ClockStamp, Quality, QualityReason, Reading } from '../reading.js';
import { decodeBit, decodeWords, extractBits, parseBitRange, type BitRange, type ByteOrder, type Decoded } from './decode.js';
import { parseExpression } from './expression.js';
import type { ReadBlock, TransactionOutcome } from './outcome.js';
import { expandDependencies, planOptionsOf, planReads, registersByName, type ReadPlan, type RegisterLookup } from './plan.js';
import { describeException } from './rtu.js';

export interface PollPlan {
  deviceId: string;
  blocks: ReadBlock[];
  channelIds: string[];
}

export interface ProfileDevice {
  readonly deviceId: string;
  planPoll(channelIds: readonly string[]): PollPlan;
  /** One reading per channel of the plan, in the plan's order; outcomes[i] answers plan.blocks[i]. */
  decode(plan: PollPlan, outcomes: readonly TransactionOutcome[], stamp: ClockStamp): Reading[];
}

// ---------------------------------------------------------------------------------------------------------------
// Device states

/** Higher is more severe; bad states above uncertain above good. Over-range outranks warm-up: it is an alarm. */
const STATE_SEVERITY: Readonly<Record<DeviceState, number>> = {
  ok: 0,
  'low-alarm': 1,
  'high-alarm': 2,
  'warm-up': 10,
  'over-range': 11,
  'data-error': 20,
  'needs-calibration': 21,
  'sensor-lost': 22,
  'sensor-fault': 23,
};

function qualityOfState(state: DeviceState): Quality {
  const severity = STATE_SEVERITY[state];
  return severity >= 20 ? 'bad' : severity >= 10 ? 'uncertain' : 'good';
}

function moreSevere(a: DeviceState, b: DeviceState): DeviceState {
  return STATE_SEVERITY[b] > STATE_SEVERITY[a] ? b : a;
}

interface CompiledStates {
  values: ReadonlyMap<number, DeviceState> | undefined;
  bitsSet: ReadonlyArray<readonly [number, DeviceState]>;
  bitsClear: ReadonlyArray<readonly [number, DeviceState]>;
  otherwise: DeviceState;
}

function parseCode(text: string): number {
  return text.startsWith('0x') || text.startsWith('0X') ? parseInt(text.slice(2), 16) : Number(text);
}

function compileStates(map: StateMap): CompiledStates {
  const bitEntries = (record: Record<string, DeviceState> | undefined) =>
    Object.entries(record ?? {}).map(([bit, state]) => [Number(bit), state] as const);
  return {
    values: map.values ? new Map(Object.entries(map.values).map(([code, state]) => [parseCode(code), state])) : undefined,
    bitsSet: bitEntries(map.bits),
    bitsClear: bitEntries(map.bitsClear),
    otherwise: map.otherwise,
  };
}

/**
 * The state a status register's raw value reports; with several bits set, the most severe wins.
 * A bitsClear condition that holds means the word is not carrying its flags: a device that clears its
 * "ready" bit uses the other bits for something else (the §4B probe counts down its warm-up in bits 0-14,
 * which would otherwise read as alarms and a lost sensor). Then the set-bit flags are not consulted.
 */
function stateOf(states: CompiledStates, raw: number): DeviceState {
  let state: DeviceState = 'ok';
  if (states.values) state = states.values.get(raw) ?? states.otherwise;
  let flagsValid = true;
  for (const [bit, bitState] of states.bitsClear) {
    if (!((raw >>> bit) & 1)) {
      state = moreSevere(state, bitState);
      flagsValid = false;
    }
  }
  if (flagsValid) for (const [bit, bitState] of states.bitsSet) if ((raw >>> bit) & 1) state = moreSevere(state, bitState);
  return state;
}

// ---------------------------------------------------------------------------------------------------------------
// Rounding

/** Decimal places a written number carries: 0.01 → 2, 2.5e-3 → 4, 10 → 0. */
function decimalPlaces(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return 0;
  const match = /^\d+(?:\.(\d+))?(?:e-(\d+))?$/.exec(Math.abs(x).toString());
  if (!match) return 12;
  return Math.min(12, (match[1]?.length ?? 0) + Number(match[2] ?? 0));
}

/** Extra decimals kept beyond what scale and decimals imply, so an odd scale (1/3) is not truncated hard. */
const EXTRA_DECIMALS = 3;
/** For floats and computed values: plenty for any sensor, few enough to drop binary noise (0.1 + 0.2). */
const SIGNIFICANT_DIGITS = 12;
/** The most decimal places a decimals register may announce (as the profile schema allows). */
const MAX_DECIMALS = 6;

function roundToDecimals(x: number, decimals: number): number {
  return Number(x.toFixed(Math.min(decimals, 15)));
}

function roundSignificant(x: number, digits: number): number {
  return Number(x.toPrecision(digits));
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled profile registers

interface CodeField {
  register: string;
  range: BitRange | undefined;
}

interface CompiledRead {
  kind: 'read';
  source: ReadRegister;
  unit: UnitField | undefined;
  /** The register's own byte order, else the profile's. */
  byteOrder: ByteOrder;
  sentinels: ReadonlySet<number>;
  states: CompiledStates | undefined;
  decimals: (CodeField & { map: ReadonlyMap<number, number> | undefined }) | undefined;
  /** Decimal places implied by scale and offset (integer types). */
  impliedDecimals: number;
}

interface CompiledComputed {
  kind: 'computed';
  source: ComputedRegister;
  unit: UnitField | undefined;
  inputs: string[];
  evaluate(vars: Record<string, number>): number;
}

type CompiledRegister = CompiledRead | CompiledComputed;

type UnitField = CodeField & { map: ReadonlyMap<number, string> };

function codeField(from: { register: string; bits?: string | undefined }): CodeField {
  return { register: from.register, range: from.bits === undefined ? undefined : parseBitRange(from.bits) };
}

function unitField(register: ProfileRegister): UnitField | undefined {
  const from = register.unitFrom;
  return from && { ...codeField(from), map: new Map(Object.entries(from.map).map(([code, unit]) => [parseCode(code), unit])) };
}

function compileRegister(register: ProfileRegister, profile: Profile, registers: RegisterLookup): CompiledRegister {
  if (isComputed(register)) {
    const parsed = parseExpression(register.compute);
    if (!parsed.ok) {
      throw new Error(`register "${register.name}": compute: ${parsed.message} at column ${parsed.column}`);
    }
    return {
      kind: 'computed',
      source: register,
      unit: unitField(register),
      inputs: parsed.identifiers.filter((name) => registers.has(name)),
      evaluate: parsed.evaluate,
    };
  }
  const decimalsFrom = register.decimalsFrom;
  return {
    kind: 'read',
    source: register,
    byteOrder: register.byteOrder ?? profile.byteOrder,
    sentinels: new Set(register.sentinels ?? []),
    states: register.states ? compileStates(register.states) : undefined,
    decimals: decimalsFrom && {
      ...codeField(decimalsFrom),
      map: decimalsFrom.map && new Map(Object.entries(decimalsFrom.map).map(([code, d]) => [parseCode(code), d])),
    },
    unit: unitField(register),
    impliedDecimals: decimalPlaces(register.scale) + decimalPlaces(register.offset),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation of one poll

/** A register's meaning in one poll, before the channel's reading is stamped. */
interface Interpreted {
  value: number | null;
  unit: string;
  quality: Quality;
  reason?: QualityReason;
  detail?: string;
}

type RawResult = { ok: true; decoded: Decoded } | { ok: false; reason: QualityReason; detail: string };

function failureDetail(outcome: Extract<TransactionOutcome, { ok: false }>): string {
  if (outcome.failure === 'exception' && outcome.exceptionCode !== undefined) return describeException(outcome.exceptionCode);
  return outcome.detail;
}

interface ResolvedChannel {
  id: string;
  register: string;
  unit: string | undefined;
  range: { min: number; max: number } | undefined;
  /** Param values per computed register of this channel's dependency tree. */
  params: ReadonlyMap<string, Readonly<Record<string, number>>>;
}

interface PlanInternals {
  readPlan: ReadPlan;
  channels: ResolvedChannel[];
}

function bad(reason: QualityReason, detail: string, unit = ''): Interpreted {
  return { value: null, unit, quality: 'bad', reason, detail };
}

/** Why a number cannot be vouched for, beyond what the device's status says. */
type Problem = { reason: 'sentinel' | 'data-error' | 'out-of-range'; detail: string };

/** A number taken from the answers or computed, before range and state are applied. */
interface Measured {
  value: number;
  problem: Problem | undefined;
  /** The most severe uncertainty (warm-up, over-range) among a computed value's inputs. */
  inputState?: { state: DeviceState; detail: string } | undefined;
}

class PollDecoder {
  private readonly raw = new Map<string, RawResult>();

  constructor(
    private readonly compiled: ReadonlyMap<string, CompiledRegister>,
    private readonly plan: ReadPlan,
    private readonly outcomes: readonly TransactionOutcome[],
  ) {}

  /** The register's bits from the answers, or why there are none. */
  rawOf(name: string): RawResult {
    const cached = this.raw.get(name);
    if (cached) return cached;
    const result = this.readRaw(name);
    this.raw.set(name, result);
    return result;
  }

  private readRaw(name: string): RawResult {
    const register = this.compiled.get(name);
    const slot = this.plan.slots.get(name);
    if (!register || register.kind !== 'read' || !slot) throw new Error(`register "${name}" is not in the read plan`);
    const outcome = this.outcomes[slot.block];
    if (!outcome) throw new Error(`no outcome for block ${slot.block}: decode needs one outcome per block of the plan`);
    if (!outcome.ok) return { ok: false, reason: outcome.failure, detail: failureDetail(outcome) };
    const block = this.plan.blocks[slot.block]!;
    try {
      // Longer is tolerated (bit answers come padded to whole bytes); shorter means the answer is not ours.
      if (register.source.fn <= 2) {
        const received = outcome.bits?.length ?? 0;
        if (received < block.count) {
          return { ok: false, reason: 'framing', detail: `answer carried ${received} bits for a request of ${block.count}` };
        }
        return { ok: true, decoded: decodeBit(outcome.bits!, slot.offset) };
      }
      const received = outcome.registers?.length ?? 0;
      if (received < block.count) {
        return { ok: false, reason: 'framing', detail: `answer carried ${received} registers for a request of ${block.count}` };
      }
      const source = register.source;
      const spec = { type: source.type, byteOrder: register.byteOrder, bit: source.bit, bits: source.bits };
      return { ok: true, decoded: decodeWords(outcome.registers!, slot.offset, spec) };
    } catch (error) {
      return { ok: false, reason: 'framing', detail: `answer too short for register "${name}": ${(error as Error).message}` };
    }
  }

  /** The state the register's status register reports, or why it cannot be known. */
  private statusOf(register: CompiledRegister): { state: DeviceState; detail: string } | Interpreted {
    const statusName = register.source.status;
    if (statusName === undefined) return { state: 'ok', detail: '' };
    const status = this.compiled.get(statusName);
    if (!status || status.kind !== 'read' || !status.states) throw new Error(`status register "${statusName}" has no states`);
    const raw = this.rawOf(statusName);
    if (!raw.ok) return bad(raw.reason, raw.detail);
    const state = stateOf(status.states, raw.decoded.raw);
    return { state, detail: `status "${statusName}" = 0x${raw.decoded.raw.toString(16).toUpperCase()} (${state})` };
  }

  private codeOf(field: CodeField): { ok: true; code: number } | Interpreted {
    const raw = this.rawOf(field.register);
    if (!raw.ok) return bad(raw.reason, raw.detail);
    return { ok: true, code: field.range ? extractBits(raw.decoded.raw, field.range) : raw.decoded.raw };
  }

  /**
   * A register's reading. `channel` is given for the channel's own register only: its range and unit override
   * the profile's; params apply to every computed register below it.
   */
  interpret(name: string, params: ReadonlyMap<string, Readonly<Record<string, number>>>, channel?: ResolvedChannel): Interpreted {
    const register = this.compiled.get(name)!;
    const staticUnit = register.source.unit ?? channel?.unit ?? '';

    // The register's own answer first: when it is missing, that is the reason, whatever else failed.
    if (register.kind === 'read') {
      const raw = this.rawOf(name);
      if (!raw.ok) return bad(raw.reason, raw.detail, staticUnit);
    }

    const status = this.statusOf(register);
    if (!('state' in status)) return { ...status, unit: staticUnit };
    if (qualityOfState(status.state) === 'bad') return bad(status.state as QualityReason, status.detail, staticUnit);

    let unit = staticUnit;
    if (register.unit) {
      const code = this.codeOf(register.unit);
      if (!('code' in code)) return { ...code, unit: staticUnit };
      const mapped = register.unit.map.get(code.code);
      if (mapped === undefined) return bad('data-error', `unknown unit code ${code.code} in register "${register.unit.register}"`);
      unit = mapped;
    }

    const measured = register.kind === 'read' ? this.scaledValue(register) : this.computedValue(register, params);
    if ('quality' in measured) return { ...measured, unit };
    let { state, detail: stateDetail } = status;
    if (measured.inputState && STATE_SEVERITY[measured.inputState.state] > STATE_SEVERITY[state]) {
      ({ state, detail: stateDetail } = measured.inputState);
    }
    const value = measured.value;
    let problem = measured.problem;
    if (!problem && !Number.isFinite(value)) problem = { reason: 'data-error', detail: `value is ${value}` };
    const range = channel?.range ?? register.source.range;
    /**
     * Above the physical range is "more than we can measure", not "no measurement": it reads as over-range with
     * the number kept, like a probe that reports over-range itself (a probe without that status bit at 130 %LEL
     * on a 0–100 channel is the highest gas alarm, and a crack gauge past its end stop is graded on the kept
     * value, the safe side). Below the range the number cannot be vouched for at all: out-of-range, bad.
     */
    let aboveRange: string | undefined;
    if (!problem && range) {
      const shown = unit === '' ? `${value}` : `${value} ${unit}`;
      if (value < range.min) {
        problem = { reason: 'out-of-range', detail: `${shown} is below the physical range ${range.min}..${range.max}` };
      } else if (value > range.max) {
        aboveRange = `${shown} is above the physical range ${range.min}..${range.max}`;
      }
    }

    if (state === 'over-range') {
      // Over-range is the highest gas alarm: the number is kept even beyond the physical range.
      const keep = !problem || problem.reason === 'out-of-range';
      const detail = keep ? stateDetail : `${stateDetail}; ${problem!.detail}`;
      return { value: keep ? value : null, unit, quality: 'uncertain', reason: 'over-range', detail };
    }
    if (state === 'warm-up') {
      // Warm-up is reported as such (it suppresses alarms, for a limited time: the alarm engine faults a warm-up
      // that goes on too long); a number the device cannot vouch for is withheld, above the range included.
      const why = problem?.detail ?? aboveRange;
      const detail = why ? `${stateDetail}; ${why}` : stateDetail;
      return { value: why ? null : value, unit, quality: 'uncertain', reason: 'warm-up', detail };
    }
    if (problem) return bad(problem.reason, problem.detail, unit);
    if (aboveRange) return { value, unit, quality: 'uncertain', reason: 'over-range', detail: aboveRange };
    return { value, unit, quality: 'good' };
  }

  /** raw × scale + offset, ÷ 10^decimals, rounded to the precision the register carries. */
  private scaledValue(register: CompiledRead): Measured | Interpreted {
    const raw = this.rawOf(register.source.name);
    if (!raw.ok) return bad(raw.reason, raw.detail);
    const decoded = raw.decoded;
    let decimals = 0;
    if (register.decimals) {
      const code = this.codeOf(register.decimals);
      if (!('code' in code)) return code;
      const mapped = register.decimals.map ? register.decimals.map.get(code.code) : code.code;
      if (mapped === undefined || mapped > MAX_DECIMALS) {
        return bad('data-error', `unknown decimals code ${code.code} in register "${register.decimals.register}"`);
      }
      decimals = mapped;
    }
    const source = register.source;
    const isFloat = source.type === 'f32';
    // A float carries about 7 significant digits; more would show the binary representation (123.45600128).
    const number = isFloat && Number.isFinite(decoded.value) ? roundSignificant(decoded.value, 7) : decoded.value;
    const exact = (number * source.scale + source.offset) / 10 ** decimals;
    const value = isFloat
      ? roundSignificant(exact, SIGNIFICANT_DIGITS)
      : roundToDecimals(exact, register.impliedDecimals + decimals + EXTRA_DECIMALS);
    const problem: Problem | undefined = register.sentinels.has(decoded.raw)
      ? { reason: 'sentinel', detail: `raw value 0x${decoded.raw.toString(16).toUpperCase()} means no data` }
      : undefined;
    return { value: value === 0 ? 0 : value, problem }; // no -0 from rounding a tiny negative
  }

  /** The expression over its inputs' values; a bad input makes the result bad for the input's reason. */
  private computedValue(register: CompiledComputed, params: ReadonlyMap<string, Readonly<Record<string, number>>>): Measured | Interpreted {
    const vars: Record<string, number> = { ...params.get(register.source.name) };
    let inputState: Measured['inputState'];
    for (const input of register.inputs) {
      const reading = this.interpret(input, params);
      if (reading.quality === 'bad' || reading.value === null) {
        return {
          value: null,
          unit: '',
          quality: reading.quality,
          ...(reading.reason === undefined ? {} : { reason: reading.reason }),
          detail: `input "${input}": ${reading.detail ?? 'no value'}`,
        };
      }
      if (reading.quality === 'uncertain' && reading.reason !== undefined) {
        const state = reading.reason as DeviceState;
        if (!inputState || STATE_SEVERITY[state] > STATE_SEVERITY[inputState.state]) {
          inputState = { state, detail: `input "${input}": ${reading.detail ?? reading.reason}` };
        }
      }
      vars[input] = reading.value;
    }
    const value = roundSignificant(register.evaluate(vars), SIGNIFICANT_DIGITS);
    return { value: value === 0 ? 0 : value, problem: undefined, inputState };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The device

function resolveChannels(profile: Profile, device: Device, registers: RegisterLookup): Map<string, ResolvedChannel> {
  const resolved = new Map<string, ResolvedChannel>();
  for (const channel of device.channels) {
    const where = `device "${device.id}" channel "${channel.id}"`;
    if (!registers.has(channel.register)) {
      throw new Error(`${where}: profile "${profile.id}" has no register "${channel.register}"`);
    }
    let tree: string[];
    try {
      tree = expandDependencies(profile, [channel.register], registers);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
    const given = channel.params ?? {};
    const declared = new Set<string>();
    const params = new Map<string, Record<string, number>>();
    for (const name of tree) {
      const register = registers.get(name)!;
      if (register.status !== undefined) {
        const status = registers.get(register.status);
        if (!status || isComputed(status) || !status.states) {
          throw new Error(`${where}: register "${name}" takes its status from "${register.status}", which has no states`);
        }
      }
      if (!isComputed(register)) continue;
      const values: Record<string, number> = {};
      for (const [param, spec] of Object.entries(register.params)) {
        declared.add(param);
        const value = Object.hasOwn(given, param) ? given[param] : spec.default;
        if (value === undefined) {
          throw new Error(`${where}: param "${param}" of register "${name}" has no value and no default: set it in params`);
        }
        values[param] = value;
      }
      params.set(name, values);
    }
    const unknown = Object.keys(given).filter((param) => !declared.has(param));
    if (unknown.length > 0) {
      throw new Error(`${where}: params ${unknown.map((p) => `"${p}"`).join(', ')} are not params of register "${channel.register}"`);
    }
    resolved.set(channel.id, {
      id: channel.id,
      register: channel.register,
      unit: channel.unit,
      range: channel.range,
      params,
    });
  }
  return resolved;
}

/**
 * Builds the driver for one device of a site. Throws when the channels do not fit the profile (unknown register,
 * missing param, bad expression): the config loader reports those before a device is ever built.
 */
export function createProfileDevice(profile: Profile, device: Device): ProfileDevice {
  const registers = registersByName(profile);
  const compiled = new Map<string, CompiledRegister>();
  for (const register of profile.registers) compiled.set(register.name, compileRegister(register, profile, registers));
  const channels = resolveChannels(profile, device, registers);
  const options = planOptionsOf(profile, {
    mergeReads: device.mergeReads,
    ...(device.maxGap === undefined ? {} : { maxGap: device.maxGap }),
    ...(device.maxRegistersPerRead === undefined ? {} : { maxRegistersPerRead: device.maxRegistersPerRead }),
  });

  const plans = new Map<string, PollPlan>();
  const internals = new WeakMap<PollPlan, PlanInternals>();

  const buildPlan = (channelIds: readonly string[]): { plan: PollPlan; internal: PlanInternals } => {
    const resolved = channelIds.map((id) => {
      const channel = channels.get(id);
      if (!channel) throw new Error(`device "${device.id}" has no channel "${id}"`);
      return channel;
    });
    const readPlan = planReads(profile, [...new Set(resolved.map((c) => c.register))], options);
    const plan: PollPlan = Object.freeze({
      deviceId: device.id,
      blocks: Object.freeze(readPlan.blocks.map((block) => Object.freeze({ ...block }))) as ReadBlock[],
      channelIds: Object.freeze([...channelIds]) as string[],
    });
    return { plan, internal: { readPlan, channels: resolved } };
  };

  const planPoll = (channelIds: readonly string[]): PollPlan => {
    const key = channelIds.join('\u0000');
    const cached = plans.get(key);
    if (cached) return cached;
    const { plan, internal } = buildPlan(channelIds);
    plans.set(key, plan);
    internals.set(plan, internal);
    return plan;
  };

  const decode = (plan: PollPlan, outcomes: readonly TransactionOutcome[], stamp: ClockStamp): Reading[] => {
    // A plan copied by the caller is not in the WeakMap; re-deriving it is deterministic, so it matches.
    const internal = internals.get(plan) ?? internals.get(planPoll(plan.channelIds))!;
    if (outcomes.length !== internal.readPlan.blocks.length) {
      throw new Error(`decode got ${outcomes.length} outcomes for ${internal.readPlan.blocks.length} blocks`);
    }
    const decoder = new PollDecoder(compiled, internal.readPlan, outcomes);
    const clock: ClockStamp = { wallTs: stamp.wallTs, monoTs: stamp.monoTs, clockSynced: stamp.clockSynced };
    return internal.channels.map((channel) => {
      const result = decoder.interpret(channel.register, channel.params, channel);
      const reading: Reading = {
        channelId: channel.id,
        deviceId: device.id,
        value: result.quality === 'bad' ? null : result.value,
        unit: result.unit,
        quality: result.quality,
        ...clock,
      };
      if (result.reason !== undefined) reading.reason = result.reason;
      if (result.detail !== undefined) reading.detail = result.detail;
      return reading;
    });
  };

  return { deviceId: device.id, planPoll, decode };
}
