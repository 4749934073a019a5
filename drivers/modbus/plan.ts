/**
 * Read planning: which requests fetch a set of registers. Wanted registers pull in what their meaning depends on
 * (status, decimals and unit registers, inputs of computed values), addresses become PDU addresses through the
 * profile's stated address base, and neighbouring registers are merged into as few requests as the device allows.
 * Deterministic: the same profile, registers and options always give the same blocks in the same order.
 */
import { isComputed, type Profile, type ProfileRegister, type ReadRegister } from '../../config/schema/index.js';
import { registerWidth } from './decode.js';
import { parseExpression } from './expression.js';
import type { ReadBlock } from './outcome.js';
import { MAX_READ_BITS, MAX_READ_REGISTERS, type ReadFunction } from './rtu.js';

export interface PlanOptions {
  /** false: one request per register (for devices that refuse reads spanning several registers). */
  mergeReads: boolean;
  /** Unused registers a merged read may span between two wanted ones. */
  maxGap: number;
  maxRegistersPerRead: number;
}

/** Where a read register's data sits in the answers: which block, and how many registers (or bits) into it. */
export interface RegisterSlot {
  block: number;
  offset: number;
}

export interface ReadPlan {
  blocks: ReadBlock[];
  /** Every read register needed, by name. */
  slots: ReadonlyMap<string, RegisterSlot>;
  /** Every register needed (wanted and dependencies); inputs of a computed register come before it. */
  registers: readonly string[];
}

export type RegisterLookup = ReadonlyMap<string, ProfileRegister>;

export function registersByName(profile: Profile): RegisterLookup {
  return new Map(profile.registers.map((register) => [register.name, register]));
}

export function planOptionsOf(profile: Profile, overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    mergeReads: overrides.mergeReads ?? true,
    maxGap: overrides.maxGap ?? profile.maxGap,
    maxRegistersPerRead: Math.min(overrides.maxRegistersPerRead ?? profile.maxRegistersPerRead, MAX_READ_REGISTERS),
  };
}

/** The PDU (on-the-wire, 0-based) address of a register, from the manual's address and the profile's base. */
export function pduAddress(profile: Profile, register: ReadRegister): number {
  const pdu = register.address - profile.addressBase;
  const last = pdu + (register.fn <= 2 ? 1 : registerWidth(register.type)) - 1;
  if (pdu < 0 || last > 0xffff) {
    throw new Error(
      `register "${register.name}": address ${register.address} is outside the device's address space with ` +
        `addressBase ${profile.addressBase}`,
    );
  }
  return pdu;
}

/** Names of the registers whose raw data this register's meaning needs (status, decimals, unit). */
export function rawDependencies(register: ProfileRegister): string[] {
  const names: string[] = [];
  if (register.status !== undefined) names.push(register.status);
  if (register.unitFrom) names.push(register.unitFrom.register);
  if (!isComputed(register) && register.decimalsFrom) names.push(register.decimalsFrom.register);
  return names;
}

/** Names of the registers a computed register's expression reads (params excluded). */
export function computedInputs(register: ProfileRegister, registers: RegisterLookup): string[] {
  if (!isComputed(register)) return [];
  const parsed = parseExpression(register.compute);
  if (!parsed.ok) {
    throw new Error(`register "${register.name}": compute "${register.compute}": ${parsed.message} at column ${parsed.column}`);
  }
  const inputs: string[] = [];
  for (const name of parsed.identifiers) {
    if (registers.has(name)) inputs.push(name);
    else if (!Object.hasOwn(register.params, name)) {
      throw new Error(`register "${register.name}": compute uses "${name}", which is neither a register nor a param`);
    }
  }
  return inputs;
}

function lookup(registers: RegisterLookup, name: string, neededBy?: string): ProfileRegister {
  const register = registers.get(name);
  if (!register) {
    throw new Error(neededBy ? `register "${neededBy}" refers to unknown register "${name}"` : `unknown register "${name}"`);
  }
  return register;
}

function requireReadRegister(register: ProfileRegister, neededBy: string): void {
  if (isComputed(register)) {
    throw new Error(`register "${neededBy}" takes status, decimals or unit from "${register.name}", which is computed, not read`);
  }
}

/**
 * The wanted registers and everything they depend on, ordered so that inputs of a computed register come
 * before it. Throws on unknown names and on computed registers that depend on themselves.
 */
export function expandDependencies(profile: Profile, wanted: readonly string[], registers = registersByName(profile)): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();

  const visit = (name: string, neededBy?: string): void => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new Error(`register "${name}" is computed from itself (via "${neededBy}")`);
    const register = lookup(registers, name, neededBy);
    visiting.add(name);
    for (const input of computedInputs(register, registers)) visit(input, name);
    visiting.delete(name);
    done.add(name);
    order.push(name);
    // Raw dependencies only need their bits read, not their meaning, so they cannot form a harmful cycle
    // (a status register may even qualify itself).
    for (const dependency of rawDependencies(register)) {
      if (dependency === name) continue;
      requireReadRegister(lookup(registers, dependency, name), name);
      visit(dependency, name);
    }
  };

  for (const name of wanted) visit(name);
  return order;
}

interface Span {
  fn: ReadFunction;
  start: number;
  end: number; // exclusive
  names: string[];
}

/**
 * Plans the requests that read `wanted` and their dependencies. Bits (FC1/FC2) merge under the same rules,
 * scaled by 16 bits per register: a gap of maxGap registers costs the same bytes as 16 × maxGap bits.
 */
export function planReads(profile: Profile, wanted: readonly string[], options: PlanOptions = planOptionsOf(profile)): ReadPlan {
  const registers = registersByName(profile);
  const needed = expandDependencies(profile, wanted, registers);

  const spansByKey = new Map<string, Span>();
  for (const name of needed) {
    const register = registers.get(name)!;
    if (isComputed(register)) continue;
    const start = pduAddress(profile, register);
    const width = register.fn <= 2 ? 1 : registerWidth(register.type);
    const key = `${register.fn}:${start}:${width}`;
    const existing = spansByKey.get(key);
    if (existing) existing.names.push(name);
    else spansByKey.set(key, { fn: register.fn, start, end: start + width, names: [name] });
  }
  const spans = [...spansByKey.values()].sort((a, b) => a.fn - b.fn || a.start - b.start || a.end - b.end);

  const blocks: ReadBlock[] = [];
  const slots = new Map<string, RegisterSlot>();
  let current: { fn: ReadFunction; start: number; end: number } | undefined;
  for (const span of spans) {
    const isBits = span.fn <= 2;
    const limit = isBits ? Math.min(MAX_READ_BITS, options.maxRegistersPerRead * 16) : options.maxRegistersPerRead;
    const maxGap = isBits ? options.maxGap * 16 : options.maxGap;
    const joins =
      options.mergeReads &&
      current !== undefined &&
      current.fn === span.fn &&
      span.start - current.end <= maxGap &&
      Math.max(current.end, span.end) - current.start <= limit;
    if (joins && current) {
      current.end = Math.max(current.end, span.end);
    } else {
      current = { fn: span.fn, start: span.start, end: span.end };
      blocks.push({ fn: current.fn, address: current.start, count: 0 });
    }
    const blockIndex = blocks.length - 1;
    blocks[blockIndex]!.count = current.end - current.start;
    for (const name of span.names) slots.set(name, { block: blockIndex, offset: span.start - current.start });
  }

  return { blocks, slots, registers: needed };
}
