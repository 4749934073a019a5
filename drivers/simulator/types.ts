import type { Profile } from '../../config/schema/index.js';
import type { LineSettings } from '../modbus/rtu.js';

/**
 * How a register's value moves over time, in the register's engineering units, as a function of the
 * simulator's monotonic clock (0 = the simulator's start).
 */
export type ValueScript =
  | { constant: number }
  /** Linear from → to over overMs, then holds `to` (or starts again from `from` when repeat). */
  | { ramp: { from: number; to: number; overMs: number; repeat?: boolean } }
  /**
   * Uniform noise in base ± amplitude, one draw per read of the device: the n-th read gives the same value on
   * every run with the same seed.
   */
  | { noise: { base: number; amplitude: number; seed?: number } }
  /** The value of the last step whose afterMs has passed (the first step's value before that). */
  | { steps: Array<[afterMs: number, value: number]> }
  /** values[i] during [i × everyMs, (i+1) × everyMs); then holds the last value, or starts again when repeat. */
  | { replay: { values: number[]; everyMs: number; repeat?: boolean } };

/**
 * A device misbehaving on purpose. silent: no answer. slow: the answer after delayMs more. crc: the answer with
 * a corrupted CRC. exception: a Modbus exception with this code. garbage: random bytes instead of the answer.
 * warm-up / sensor-fault: the device answers, but its status register(s) say so (per the profile's states map;
 * a profile without one gets its sentinel value for sensor-fault).
 */
export type SimFault =
  | { kind: 'silent' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'crc' }
  | { kind: 'exception'; code: number }
  | { kind: 'garbage'; length?: number }
  | { kind: 'warm-up' }
  | { kind: 'sensor-fault' };

export interface SimDeviceSpec {
  unit: number;
  profile: Profile;
  values?: Record<string, ValueScript>;
  fault?: SimFault | null;
  /** Chance (0..1) that the fault applies to a given request; default 1 (always). */
  faultProbability?: number;
}

export interface WireTiming {
  line: LineSettings;
  /** Time the device takes between the end of the request (after t3.5) and the first byte of its answer. */
  turnaroundMs: number;
}

export interface SimulatorOptions {
  devices: SimDeviceSpec[];
  /** Emulate the timing of a real RS-485 line (for TCP and ptys, which carry bytes without baud timing). */
  wireTiming?: WireTiming;
  /** Seed of every random choice (faults, garbage, noise without its own seed); default 1. */
  seed?: number;
  /** The line echoes every byte the master sends back to it (a 2-wire transceiver without echo suppression). */
  echo?: boolean;
}

export interface SimulatorStats {
  /** Requests with a valid CRC, to any unit (including units that are not simulated). */
  requests: number;
  /** Frames sent back: answers, exceptions, corrupted answers and garbage. */
  answered: number;
  /** Runs of bytes dropped because they did not make a valid frame (one per bad frame). */
  badCrcRequests: number;
  /** Requests addressed to each unit id. */
  perUnit: Record<number, number>;
}

export type SimulatorEndpoint = { kind: 'tcp'; host: string; port: number } | { kind: 'serial'; path: string };

export interface RunningSimulator {
  readonly endpoint: SimulatorEndpoint;
  setFault(unit: number, fault: SimFault | null): void;
  setValue(unit: number, register: string, script: ValueScript): void;
  /** A coil as stored (defaults and what masters wrote). */
  readCoil(unit: number, pduAddress: number): boolean;
  /** A holding register as stored (defaults and what masters wrote; scripts do not show here). */
  readHoldingRegister(unit: number, pduAddress: number): number;
  stats(): SimulatorStats;
  close(): Promise<void>;
}
