/**
 * One simulated field device: its register image built from a profile, the scripts that drive some registers,
 * its injected fault, and how it serves one decoded request.
 */
import type { DeviceState, Profile, ReadRegister } from '../../config/schema/index.js';
import { isComputed } from '../../config/schema/index.js';
import {
  chooseDecimals,
  decimalsAndUnitFrom,
  encodeRegisterValue,
  encodeSentinel,
  encodeState,
  findReadRegister,
  pduAddressOf,
  registerSpan,
  type EncodeOptions,
  type EncodedWrite,
} from '../modbus/encode.js';
import {
  MAX_READ_BITS,
  MAX_READ_REGISTERS,
  MAX_WRITE_BITS,
  MAX_WRITE_REGISTERS,
  type ModbusRequest,
  type ModbusResponse,
} from '../modbus/rtu.js';
import { defaultValue } from './defaults.js';
import { RegisterImage, type BitTable, type WordTable } from './image.js';
import { deriveSeed, seededRandom, type Random } from './random.js';
import { checkValueScript, ScriptPlayer } from './scripts.js';
import type { SimDeviceSpec, SimFault, ValueScript } from './types.js';

export type DeviceAnswer = { kind: 'response'; response: ModbusResponse } | { kind: 'exception'; code: number };

export const ILLEGAL_FUNCTION = 1;
export const ILLEGAL_DATA_ADDRESS = 2;
export const ILLEGAL_DATA_VALUE = 3;

/** Bad states to say "sensor fault" with, best first, for profiles whose status map lacks that exact word. */
const SENSOR_FAULT_STATES: readonly DeviceState[] = ['sensor-fault', 'sensor-lost', 'data-error', 'needs-calibration'];

interface Span {
  first: number;
  last: number;
}

export class SimDevice {
  readonly unit: number;
  readonly profile: Profile;
  private readonly stored = new RegisterImage();
  private readonly spans = new Map<number, Span>();
  private readonly writableCoils = new Set<number>();
  private readonly writableHolding = new Set<number>();
  /** Registers that other registers take their decimals or unit from. */
  private readonly sources = new Set<string>();
  /** Constant values given to those registers: they fix the decimals and unit the device announces. */
  private readonly sourceValues = new Map<string, number>();
  private readonly players = new Map<string, ScriptPlayer>();
  private readonly random: Random;
  private fault: SimFault | null = null;
  private faultWrites: EncodedWrite[] = [];
  private faultProbability = 1;

  constructor(
    spec: SimDeviceSpec,
    private readonly seed: number,
  ) {
    if (!Number.isInteger(spec.unit) || spec.unit < 1 || spec.unit > 247) {
      throw new RangeError(`simulated device unit ${spec.unit}: a unit id is 1..247`);
    }
    this.unit = spec.unit;
    this.profile = spec.profile;
    this.random = seededRandom(deriveSeed(seed, 'device', spec.unit));
    for (const register of this.readRegisters()) {
      const table = register.fn;
      const first = pduAddressOf(this.profile, register);
      const last = first + registerSpan(register) - 1;
      const span = this.spans.get(table);
      this.spans.set(table, span ? { first: Math.min(span.first, first), last: Math.max(span.last, last) } : { first, last });
      if (register.writable && (table === 1 || table === 3)) {
        for (let a = first; a <= last; a++) (table === 1 ? this.writableCoils : this.writableHolding).add(a);
      }
      if (register.decimalsFrom) this.sources.add(register.decimalsFrom.register);
      if (register.unitFrom) this.sources.add(register.unitFrom.register);
    }
    for (const [name, script] of Object.entries(spec.values ?? {})) this.acceptScript(name, script);
    this.writeDefaults();
    this.setFault(spec.fault ?? null, spec.faultProbability);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Configuration

  setValue(name: string, script: ValueScript): void {
    this.acceptScript(name, script);
    if (this.sources.has(name)) this.writeDefaults();
  }

  setFault(fault: SimFault | null, probability?: number): void {
    if (probability !== undefined) {
      if (!(probability >= 0 && probability <= 1)) {
        throw new RangeError(`unit ${this.unit}: faultProbability ${probability} is not in 0..1`);
      }
      this.faultProbability = probability;
    }
    if (fault?.kind === 'slow' && !(fault.delayMs >= 0)) {
      throw new RangeError(`unit ${this.unit}: slow fault needs delayMs ≥ 0`);
    }
    if (fault?.kind === 'exception' && !(Number.isInteger(fault.code) && fault.code >= 1 && fault.code <= 255)) {
      throw new RangeError(`unit ${this.unit}: exception fault needs a code 1..255`);
    }
    if (fault?.kind === 'garbage' && fault.length !== undefined && !(Number.isInteger(fault.length) && fault.length >= 1)) {
      throw new RangeError(`unit ${this.unit}: garbage fault length must be a positive integer`);
    }
    this.faultWrites =
      fault?.kind === 'warm-up' ? this.warmUpWrites() : fault?.kind === 'sensor-fault' ? this.sensorFaultWrites() : [];
    this.fault = fault;
  }

  /** The fault that applies to the request now being served, if any (draws against faultProbability). */
  faultForRequest(): SimFault | null {
    if (!this.fault) return null;
    if (this.faultProbability >= 1) return this.fault;
    return this.random() < this.faultProbability ? this.fault : null;
  }

  /** A generator for this device's garbage bytes and other per-device randomness. */
  get rng(): Random {
    return this.random;
  }

  readCoil(pduAddress: number): boolean {
    return this.stored.bit(1, pduAddress);
  }

  readHoldingRegister(pduAddress: number): number {
    return this.stored.word(3, pduAddress);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Serving

  /** Serves a request at time tMs; `statusFault` overlays the warm-up / sensor-fault status for this answer. */
  serve(request: ModbusRequest, tMs: number, statusFault: boolean): DeviceAnswer {
    switch (request.fn) {
      case 1:
      case 2:
      case 3:
      case 4: {
        const limit = request.fn <= 2 ? MAX_READ_BITS : MAX_READ_REGISTERS;
        if (request.count < 1 || request.count > limit) return { kind: 'exception', code: ILLEGAL_DATA_VALUE };
        if (!this.covers(request.fn, request.address, request.count)) return { kind: 'exception', code: ILLEGAL_DATA_ADDRESS };
        const view = this.viewAt(tMs, statusFault);
        const addresses = range(request.address, request.count);
        if (request.fn === 1 || request.fn === 2) {
          const table: BitTable = request.fn;
          return { kind: 'response', response: { fn: table, bits: addresses.map((a) => view.bit(table, a)) } };
        }
        const table: WordTable = request.fn;
        return { kind: 'response', response: { fn: table, registers: addresses.map((a) => view.word(table, a)) } };
      }
      case 5:
        if (!this.writableCoils.has(request.address)) return { kind: 'exception', code: ILLEGAL_DATA_ADDRESS };
        this.stored.setBit(1, request.address, request.value);
        return { kind: 'response', response: { fn: 5, address: request.address, quantityOrValue: request.value ? 0xff00 : 0 } };
      case 6:
        if (!this.writableHolding.has(request.address)) return { kind: 'exception', code: ILLEGAL_DATA_ADDRESS };
        this.stored.setWord(3, request.address, request.value);
        return { kind: 'response', response: { fn: 6, address: request.address, quantityOrValue: request.value } };
      case 15:
      case 16: {
        const limit = request.fn === 15 ? MAX_WRITE_BITS : MAX_WRITE_REGISTERS;
        const count = request.values.length;
        if (count < 1 || count > limit) return { kind: 'exception', code: ILLEGAL_DATA_VALUE };
        const allowed = request.fn === 15 ? this.writableCoils : this.writableHolding;
        if (!range(request.address, count).every((a) => allowed.has(a))) return { kind: 'exception', code: ILLEGAL_DATA_ADDRESS };
        if (request.fn === 15) request.values.forEach((on, i) => this.stored.setBit(1, request.address + i, on));
        else request.values.forEach((word, i) => this.stored.setWord(3, request.address + i, word));
        return { kind: 'response', response: { fn: request.fn, address: request.address, quantityOrValue: count } };
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Internals

  private readRegisters(): ReadRegister[] {
    return this.profile.registers.filter((r): r is ReadRegister => !isComputed(r));
  }

  private covers(table: number, address: number, count: number): boolean {
    const span = this.spans.get(table);
    return span !== undefined && address >= span.first && address + count - 1 <= span.last;
  }

  private acceptScript(name: string, script: ValueScript): void {
    const where = `unit ${this.unit} (${this.profile.id}) register "${name}"`;
    findReadRegister(this.profile, name); // throws for unknown and computed registers, naming them
    const checked = checkValueScript(script, where);
    if (this.sources.has(name)) {
      if (!('constant' in checked)) {
        throw new TypeError(`${where} announces decimals/unit for other registers: it can only be set to a constant`);
      }
      this.sourceValues.set(name, checked.constant);
      this.players.delete(name);
      return;
    }
    this.players.set(name, new ScriptPlayer(checked, deriveSeed(this.seed, 'noise', this.unit, name)));
  }

  /** How a register's value is encoded on this device: with the decimals and unit its source register announces. */
  private encodeOptions(register: ReadRegister): EncodeOptions {
    const options: EncodeOptions = { saturate: true };
    if (register.decimalsFrom) options.decimals = chooseDecimals(register);
    const fixedBy = [register.decimalsFrom?.register, register.unitFrom?.register].filter(
      (name): name is string => name !== undefined && this.sourceValues.has(name),
    );
    for (const name of fixedBy) {
      const source = findReadRegister(this.profile, name);
      const word = this.stored.word(source.fn === 4 ? 4 : 3, pduAddressOf(this.profile, source));
      const announced = decimalsAndUnitFrom(register, word);
      if (register.decimalsFrom?.register === name) options.decimals = announced.decimals ?? 0;
      if (register.unitFrom?.register === name && announced.unit !== undefined) options.unit = announced.unit;
      options.writeSources = false;
    }
    return options;
  }

  /** Rebuilds the stored image of every register from defaults (master writes to them are lost). */
  private writeDefaults(): void {
    const registers = this.readRegisters();
    for (const [name, value] of this.sourceValues) {
      this.stored.applyAll(encodeRegisterValue(this.profile, name, value, { saturate: true }));
    }
    for (const register of registers) {
      if (this.sources.has(register.name)) continue;
      if (register.states) {
        this.stored.applyAll(encodeState(this.profile, register.name, 'ok') ?? []);
        continue;
      }
      const value = defaultValue(register, this.unit);
      this.stored.applyAll(encodeRegisterValue(this.profile, register.name, value, this.encodeOptions(register)));
    }
  }

  private viewAt(tMs: number, statusFault: boolean): RegisterImage {
    const view = new RegisterImage(this.stored);
    for (const [name, player] of this.players) {
      const register = findReadRegister(this.profile, name);
      view.applyAll(encodeRegisterValue(this.profile, name, player.valueAt(tMs), this.encodeOptions(register)));
    }
    if (statusFault) view.applyAll(this.faultWrites);
    return view;
  }

  private statusRegisters(): ReadRegister[] {
    return this.readRegisters().filter((r) => r.states !== undefined);
  }

  private warmUpWrites(): EncodedWrite[] {
    const writes = this.statusRegisters().flatMap((r) => encodeState(this.profile, r.name, 'warm-up') ?? []);
    if (writes.length === 0) {
      throw new TypeError(`unit ${this.unit}: profile ${this.profile.id} has no status register that can say warm-up`);
    }
    return writes;
  }

  private sensorFaultWrites(): EncodedWrite[] {
    const writes: EncodedWrite[] = [];
    for (const register of this.statusRegisters()) {
      for (const state of SENSOR_FAULT_STATES) {
        const encoded = encodeState(this.profile, register.name, state);
        if (encoded) {
          writes.push(...encoded);
          break;
        }
      }
    }
    if (writes.length > 0) return writes;
    // no status register that can say it: a faulty sensor of such a device reports its "no data" value
    for (const register of this.readRegisters()) {
      const sentinel = register.sentinels?.[0];
      if (sentinel !== undefined && (register.fn === 3 || register.fn === 4)) {
        writes.push(...encodeSentinel(this.profile, register, sentinel));
      }
    }
    if (writes.length === 0) {
      throw new TypeError(
        `unit ${this.unit}: profile ${this.profile.id} has neither a status register that can say sensor-fault nor a sentinel value`,
      );
    }
    return writes;
  }
}

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}
