/**
 * The inverse of decoding: an engineering value (or a device state) → the raw words or bits a device would hold
 * for a profile register. The device simulator is built on it. Pure: no I/O, no clock.
 *
 * Conventions, shared with decoding:
 * - PDU address = profile address − addressBase.
 * - value = (raw × scale + offset) / 10^decimals (decimals only with decimalsFrom), as drivers/modbus decodes.
 * - 32-bit byte orders name the order the bytes go on the wire, A being the most significant: ABCD big-endian,
 *   CDAB word-swapped, BADC byte-swapped, DCBA little-endian.
 */
import type { DeviceState, Profile, ReadRegister, StateMap } from '../../config/schema/index.js';
import { isComputed } from '../../config/schema/index.js';

/**
 * Raw content for a device's register image. `mask` (register tables only) restricts the write to those bits of
 * each word, so that bits of a register that belong to another field are kept.
 */
export type EncodedWrite =
  | { fn: 1 | 2; pduAddress: number; bits: boolean[] }
  | { fn: 3 | 4; pduAddress: number; words: number[]; mask?: number };

export interface EncodeOptions {
  /** Decimal places for a register with decimalsFrom; default chooseDecimals(). */
  decimals?: number;
  /** Unit to announce through a unitFrom register; default the register's own unit, else the first in the map. */
  unit?: string;
  /**
   * Whether to also write the decimals/unit fields of the registers named by decimalsFrom/unitFrom (default
   * true). Off when those registers are driven separately and `decimals`/`unit` were read from them.
   */
  writeSources?: boolean;
  /** Clamp a value outside the raw type's range to its limit, as a saturated sensor does; default: throw. */
  saturate?: boolean;
}

export class EncodeError extends Error {
  override name = 'EncodeError';
}

const FULL_WORD = 0xffff;

export function findReadRegister(profile: Profile, name: string): ReadRegister {
  const register = profile.registers.find((r) => r.name === name);
  if (!register) throw new EncodeError(`profile ${profile.id} has no register "${name}"`);
  if (isComputed(register)) {
    throw new EncodeError(`register "${name}" of profile ${profile.id} is computed: set the registers it is computed from`);
  }
  return register;
}

export function pduAddressOf(profile: Profile, register: ReadRegister): number {
  return register.address - profile.addressBase;
}

/** Number of table entries (registers or bits) a register occupies. */
export function registerSpan(register: ReadRegister): number {
  return register.type === 'u32' || register.type === 's32' || register.type === 'f32' ? 2 : 1;
}

export interface BitField {
  low: number;
  width: number;
  /** The field's bits in place within the 16-bit word. */
  mask: number;
}

/** Parses a bit range like "8-11", "11-8" or "3". */
export function parseBitRange(range: string): BitField {
  const [first, second] = range.split('-').map(Number);
  const a = first ?? 0;
  const b = second ?? a;
  const low = Math.min(a, b);
  const width = Math.abs(a - b) + 1;
  return { low, width, mask: (((1 << width) - 1) << low) & FULL_WORD };
}

function parseKey(key: string): number {
  return key.startsWith('0x') || key.startsWith('0X') ? Number.parseInt(key.slice(2), 16) : Number(key);
}

function fieldOf(bits: string | undefined): BitField {
  return bits ? parseBitRange(bits) : { low: 0, width: 16, mask: FULL_WORD };
}

function tableFn(register: ReadRegister): 3 | 4 {
  if (register.fn !== 3 && register.fn !== 4) throw new EncodeError(`register "${register.name}" is not a register (fn ${register.fn})`);
  return register.fn;
}

/** Puts `raw` into `field` as a masked single-word write at the register's address. */
function fieldWrite(profile: Profile, register: ReadRegister, field: BitField, raw: number): EncodedWrite {
  return { fn: tableFn(register), pduAddress: pduAddressOf(profile, register), words: [(raw << field.low) & field.mask], mask: field.mask };
}

// ---------------------------------------------------------------------------------------------------------------
// Decimals and unit carried by another register

/** The decimal places the decimals register can announce for this register (the field values it may hold). */
function decimalsChoices(register: ReadRegister): Map<number, number> {
  const from = register.decimalsFrom;
  const choices = new Map<number, number>();
  if (!from) return choices;
  if (from.map) {
    for (const [key, decimals] of Object.entries(from.map)) if (!choices.has(decimals)) choices.set(decimals, parseKey(key));
  } else {
    const field = fieldOf(from.bits);
    for (let decimals = 0; decimals <= Math.min(6, (1 << field.width) - 1); decimals++) choices.set(decimals, decimals);
  }
  return choices;
}

/**
 * The decimal places a simulated device uses for a register whose decimals come from another register: one
 * decimal if offered (it covers 0-6553.5 in a u16, the usual gas probe resolution), else the fewest offered.
 * Fixed per register, not per value, because several registers usually share one decimals field.
 */
export function chooseDecimals(register: ReadRegister): number {
  const offered = [...decimalsChoices(register).keys()].sort((a, b) => a - b);
  if (offered.includes(1)) return 1;
  const fewest = offered[0];
  if (fewest === undefined) throw new EncodeError(`register "${register.name}" offers no decimals in its decimalsFrom map`);
  return fewest;
}

/** Reads decimals and unit back from the value of the register they come from (for a driven decimals register). */
export function decimalsAndUnitFrom(register: ReadRegister, sourceWord: number): { decimals?: number; unit?: string } {
  const out: { decimals?: number; unit?: string } = {};
  if (register.decimalsFrom) {
    const field = fieldOf(register.decimalsFrom.bits);
    const code = (sourceWord & field.mask) >>> field.low;
    const mapped = register.decimalsFrom.map
      ? Object.entries(register.decimalsFrom.map).find(([key]) => parseKey(key) === code)?.[1]
      : code;
    if (mapped !== undefined) out.decimals = mapped;
  }
  if (register.unitFrom) {
    const field = fieldOf(register.unitFrom.bits);
    const code = (sourceWord & field.mask) >>> field.low;
    const unit = Object.entries(register.unitFrom.map).find(([key]) => parseKey(key) === code)?.[1];
    if (unit !== undefined) out.unit = unit;
  }
  return out;
}

function unitCode(register: ReadRegister, wanted: string | undefined): number {
  const map = register.unitFrom?.map ?? {};
  const entries = Object.entries(map);
  if (wanted === undefined) {
    const first = entries[0];
    if (!first) throw new EncodeError(`register "${register.name}" has an empty unitFrom map`);
    return parseKey(first[0]);
  }
  const match = entries.find(([, unit]) => unit.toLowerCase() === wanted.toLowerCase());
  if (!match) {
    throw new EncodeError(
      `register "${register.name}" cannot announce unit "${wanted}" (its unit register knows ${entries.map(([, u]) => u).join(', ')})`,
    );
  }
  return parseKey(match[0]);
}

function sourceRegister(profile: Profile, name: string, of: ReadRegister): ReadRegister {
  const source = profile.registers.find((r) => r.name === name);
  if (!source || isComputed(source)) {
    throw new EncodeError(`register "${of.name}" takes decimals or unit from "${name}", which is not a read register`);
  }
  return source;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw values

interface RawLimits {
  min: number;
  max: number;
}

function limitsOf(register: ReadRegister): RawLimits | null {
  switch (register.type) {
    case 'u16':
      return { min: 0, max: 0xffff };
    case 's16':
      return { min: -0x8000, max: 0x7fff };
    case 'u32':
      return { min: 0, max: 0xffffffff };
    case 's32':
      return { min: -0x80000000, max: 0x7fffffff };
    case 'bitfield': {
      const width = fieldOf(register.bits).width;
      return { min: 0, max: (1 << width) - 1 };
    }
    default:
      return null;
  }
}

/** Orders the four bytes A (most significant) .. D as the byte order sends them, then pairs them into words. */
export function wordsInByteOrder(bytesABCD: readonly [number, number, number, number], order: string): [number, number] {
  const [a, b, c, d] = bytesABCD;
  const byLetter: Record<string, number> = { A: a, B: b, C: c, D: d };
  const wire = [...order].map((letter) => byLetter[letter]);
  if (wire.length !== 4 || wire.some((x) => x === undefined)) throw new EncodeError(`unknown byte order "${order}"`);
  const [w0, w1, w2, w3] = wire as [number, number, number, number];
  return [(w0 << 8) | w1, (w2 << 8) | w3];
}

/**
 * Raw integer (or float, for f32) → writes for the register's type and byte order, with no scaling. Throws
 * when the raw value does not fit the type.
 */
export function encodeRaw(profile: Profile, register: ReadRegister, raw: number): EncodedWrite[] {
  const pduAddress = pduAddressOf(profile, register);
  if (!Number.isFinite(raw)) throw new EncodeError(`register "${register.name}": ${raw} is not a finite number`);
  if (register.fn === 1 || register.fn === 2) {
    if (register.type !== 'bit') throw new EncodeError(`register "${register.name}" on fn ${register.fn} must be of type bit`);
    return [{ fn: register.fn, pduAddress, bits: [raw !== 0] }];
  }
  const fn = tableFn(register);
  const limits = limitsOf(register);
  if (limits && (raw < limits.min || raw > limits.max || !Number.isInteger(raw))) {
    throw new EncodeError(`register "${register.name}": raw ${raw} does not fit ${register.type} (${limits.min}..${limits.max})`);
  }
  switch (register.type) {
    case 'u16':
    case 's16':
      return [{ fn, pduAddress, words: [raw & FULL_WORD] }];
    case 'bit': {
      if (register.bit === undefined) throw new EncodeError(`register "${register.name}" of type bit on a register needs "bit"`);
      const mask = 1 << register.bit;
      return [{ fn, pduAddress, words: [raw !== 0 ? mask : 0], mask }];
    }
    case 'bitfield': {
      if (register.bits === undefined) throw new EncodeError(`register "${register.name}" of type bitfield needs "bits"`);
      return [fieldWrite(profile, register, fieldOf(register.bits), raw)];
    }
    case 'u32':
    case 's32':
    case 'f32': {
      const bytes = Buffer.alloc(4);
      if (register.type === 'f32') bytes.writeFloatBE(raw);
      else bytes.writeUInt32BE(raw >>> 0);
      const words = wordsInByteOrder([bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!], register.byteOrder ?? profile.byteOrder);
      return [{ fn, pduAddress, words }];
    }
  }
}

/** A sentinel ("no data") raw pattern, as the profile lists it (unsigned), → the words that carry it. */
export function encodeSentinel(profile: Profile, register: ReadRegister, sentinel: number): EncodedWrite[] {
  const fn = tableFn(register);
  const pduAddress = pduAddressOf(profile, register);
  if (registerSpan(register) === 1) return [{ fn, pduAddress, words: [sentinel & FULL_WORD] }];
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(sentinel >>> 0);
  const words = wordsInByteOrder([bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!], register.byteOrder ?? profile.byteOrder);
  return [{ fn, pduAddress, words }];
}

/**
 * Engineering value → the writes that make a device report it: the register itself, plus (unless told not
 * to) the decimals and unit fields of the register they are read from. Computed registers cannot be encoded.
 */
export function encodeRegisterValue(
  profile: Profile,
  registerName: string,
  value: number,
  options: EncodeOptions = {},
): EncodedWrite[] {
  const register = findReadRegister(profile, registerName);
  if (!Number.isFinite(value)) throw new EncodeError(`register "${registerName}": ${value} is not a finite number`);
  if (register.type === 'bit') return encodeRaw(profile, register, value !== 0 ? 1 : 0);

  const decimals = register.decimalsFrom ? (options.decimals ?? chooseDecimals(register)) : 0;
  let raw = (value * 10 ** decimals - register.offset) / register.scale;
  if (register.type !== 'f32') {
    raw = Math.round(raw);
    const limits = limitsOf(register);
    if (limits && (raw < limits.min || raw > limits.max)) {
      if (!options.saturate) {
        throw new EncodeError(
          `register "${registerName}": ${value} is outside what ${register.type} can carry with scale ${register.scale}, ` +
            `offset ${register.offset}${decimals ? ` and ${decimals} decimals` : ''}`,
        );
      }
      raw = Math.min(limits.max, Math.max(limits.min, raw));
    }
  }
  const writes = encodeRaw(profile, register, raw);

  if (options.writeSources !== false) {
    if (register.decimalsFrom) {
      const code = decimalsChoices(register).get(decimals);
      if (code === undefined) throw new EncodeError(`register "${registerName}" cannot announce ${decimals} decimals`);
      const source = sourceRegister(profile, register.decimalsFrom.register, register);
      writes.push(fieldWrite(profile, source, fieldOf(register.decimalsFrom.bits), code));
    }
    if (register.unitFrom) {
      const source = sourceRegister(profile, register.unitFrom.register, register);
      const code = unitCode(register, options.unit ?? register.unit);
      writes.push(fieldWrite(profile, source, fieldOf(register.unitFrom.bits), code));
    }
  }
  return writes;
}

// ---------------------------------------------------------------------------------------------------------------
// Device states

/** The states a status value means under a state map ("ok" included when the value map says so). */
export function statesOf(map: StateMap, raw: number): Set<DeviceState> {
  const states = new Set<DeviceState>();
  if (map.values) {
    const hit = Object.entries(map.values).find(([key]) => parseKey(key) === raw);
    states.add(hit ? hit[1] : map.otherwise);
  }
  for (const [bit, state] of Object.entries(map.bits ?? {})) if (raw & (1 << Number(bit))) states.add(state);
  for (const [bit, state] of Object.entries(map.bitsClear ?? {})) if (!(raw & (1 << Number(bit)))) states.add(state);
  return states;
}

function means(map: StateMap, raw: number, state: DeviceState): boolean {
  const states = statesOf(map, raw);
  states.delete('ok');
  return state === 'ok' ? states.size === 0 : states.size === 1 && states.has(state);
}

/** Field values to try, most natural first, for a status field that should say `state`. */
function stateCandidates(map: StateMap, width: number, state: DeviceState): number[] {
  const fieldMax = (1 << width) - 1;
  // the quiet pattern: every "bit set = problem" clear, every "bit clear = problem" set
  let quiet = 0;
  for (const bit of Object.keys(map.bitsClear ?? {})) quiet |= 1 << Number(bit);
  const candidates: number[] = [];
  for (const [key, meaning] of Object.entries(map.values ?? {})) if (meaning === state) candidates.push(parseKey(key) | quiet);
  if (state === 'ok') candidates.push(quiet);
  for (const [bit, meaning] of Object.entries(map.bits ?? {})) if (meaning === state) candidates.push(quiet | (1 << Number(bit)));
  for (const [bit, meaning] of Object.entries(map.bitsClear ?? {})) if (meaning === state) candidates.push(quiet & ~(1 << Number(bit)));
  if (map.values && map.otherwise === state) {
    const used = new Set(Object.keys(map.values).map(parseKey));
    for (let v = 0; v <= fieldMax; v++) {
      if (!used.has(v)) {
        candidates.push(v | quiet);
        break;
      }
    }
  }
  return candidates.filter((v) => v >= 0 && v <= fieldMax);
}

/**
 * The writes that make a status register (one with `states`) say `state`; null when its map has no value that
 * means exactly that state.
 */
export function encodeState(profile: Profile, registerName: string, state: DeviceState): EncodedWrite[] | null {
  const register = findReadRegister(profile, registerName);
  if (!register.states) throw new EncodeError(`register "${registerName}" of profile ${profile.id} has no states map`);
  const field = register.type === 'bitfield' ? fieldOf(register.bits) : { low: 0, width: 16, mask: FULL_WORD };
  if (register.type === 'bit' || register.type === 'u32' || register.type === 's32' || register.type === 'f32') {
    throw new EncodeError(`register "${registerName}": states are only supported on 16-bit registers and bitfields`);
  }
  const raw = stateCandidates(register.states, field.width, state).find((v) => means(register.states!, v, state));
  if (raw === undefined) return null;
  return [fieldWrite(profile, register, field, raw)];
}

/** Applies a masked word write to the current word. */
export function mergeWord(current: number, word: number, mask: number = FULL_WORD): number {
  return ((current & ~mask) | (word & mask)) & FULL_WORD;
}
