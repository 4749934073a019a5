/**
 * One simulated RS-485 line with its devices: decides the answer to each framed request (device, fault,
 * broadcast, unknown unit), emulates when it would reach the master on a real wire, and keeps the counts.
 * Transport-free: TCP and serial front ends feed it frames and give it a way to send bytes back.
 */
import { performance } from 'node:perf_hooks';
import { encodeException, encodeResponse, t35Ms, type ModbusRequest } from '../modbus/rtu.js';
import { SimDevice, ILLEGAL_DATA_VALUE, ILLEGAL_FUNCTION } from './device.js';
import type { FramedEvent } from './framer.js';
import { randomBytes } from './random.js';
import { frameTimeMs, PreciseScheduler } from './timing.js';
import type { SimFault, SimulatorOptions, SimulatorStats, ValueScript, WireTiming } from './types.js';

const DEFAULT_SEED = 1;
const DEFAULT_GARBAGE_LENGTH = 8;

export type SendBytes = (bytes: Buffer) => void;

function isWrite(request: ModbusRequest): boolean {
  return request.fn === 5 || request.fn === 6 || request.fn === 15 || request.fn === 16;
}

/** Flips CRC bits so the frame fails its check but keeps its length and shape. */
function corruptCrc(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  out[out.length - 1] = out[out.length - 1]! ^ 0x5a;
  return out;
}

export class SimulatedBus {
  private readonly devices = new Map<number, SimDevice>();
  private readonly wireTiming: WireTiming | undefined;
  private readonly scheduler = new PreciseScheduler();
  private readonly startedAt = performance.now();
  /** When the emulated line is next free: answers never overlap on a half-duplex bus. */
  private lineFreeAt = 0;
  private closed = false;
  private readonly counts: SimulatorStats = { requests: 0, answered: 0, badCrcRequests: 0, perUnit: {} };

  constructor(options: SimulatorOptions) {
    const seed = options.seed ?? DEFAULT_SEED;
    for (const spec of options.devices) {
      if (this.devices.has(spec.unit)) throw new RangeError(`two simulated devices share unit ${spec.unit}`);
      this.devices.set(spec.unit, new SimDevice(spec, seed));
    }
    if (options.wireTiming) {
      const { line, turnaroundMs } = options.wireTiming;
      if (!(line.baud > 0) || !(turnaroundMs >= 0)) throw new RangeError('wireTiming needs a positive baud and turnaroundMs ≥ 0');
    }
    this.wireTiming = options.wireTiming;
  }

  /** Milliseconds since the simulator started: the clock value scripts run on. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  device(unit: number): SimDevice {
    const device = this.devices.get(unit);
    if (!device) throw new RangeError(`no simulated device with unit ${unit}`);
    return device;
  }

  setFault(unit: number, fault: SimFault | null): void {
    this.device(unit).setFault(fault);
  }

  setValue(unit: number, register: string, script: ValueScript): void {
    this.device(unit).setValue(register, script);
  }

  stats(): SimulatorStats {
    return { ...this.counts, perUnit: { ...this.counts.perUnit } };
  }

  close(): void {
    this.closed = true;
    this.scheduler.cancel();
  }

  /** Handles one framed event from a connection; the answer, if any, goes back through `send`. */
  onFrame(event: FramedEvent, send: SendBytes): void {
    if (this.closed) return;
    const arrival = this.scheduler.now();
    if (event.kind === 'bad-frame') {
      this.counts.badCrcRequests++;
      return;
    }
    const unit = event.kind === 'request' ? event.request.unit : event.unit;
    this.counts.requests++;
    this.counts.perUnit[unit] = (this.counts.perUnit[unit] ?? 0) + 1;

    if (unit === 0) {
      // broadcast: every device applies a write, none answers
      if (event.kind === 'request' && isWrite(event.request)) {
        for (const device of this.devices.values()) device.serve(event.request, this.elapsedMs(), false);
      }
      this.occupyLine(arrival, event.length);
      return;
    }
    const device = this.devices.get(unit);
    const fault = device?.faultForRequest() ?? null;
    if (!device || fault?.kind === 'silent') {
      this.occupyLine(arrival, event.length);
      return;
    }
    const answer = this.answerBytes(device, event, fault);
    this.schedule(arrival, event.length, answer, fault?.kind === 'slow' ? fault.delayMs : 0, send);
  }

  private answerBytes(device: SimDevice, event: Exclude<FramedEvent, { kind: 'bad-frame' }>, fault: SimFault | null): Buffer {
    const fn = event.kind === 'request' ? event.request.fn : event.fn;
    if (fault?.kind === 'exception') return encodeException(device.unit, fn, fault.code);
    if (fault?.kind === 'garbage') return randomBytes(device.rng, fault.length ?? DEFAULT_GARBAGE_LENGTH);
    let frame: Buffer;
    if (event.kind === 'unsupported') frame = encodeException(device.unit, fn, ILLEGAL_FUNCTION);
    else if (event.kind === 'malformed') frame = encodeException(device.unit, fn, ILLEGAL_DATA_VALUE);
    else {
      const statusFault = fault?.kind === 'warm-up' || fault?.kind === 'sensor-fault';
      const answer = device.serve(event.request, this.elapsedMs(), statusFault);
      frame =
        answer.kind === 'response'
          ? encodeResponse(event.request, answer.response)
          : encodeException(device.unit, event.request.fn, answer.code);
    }
    return fault?.kind === 'crc' ? corruptCrc(frame) : frame;
  }

  /** A request nobody answers still holds the line while it is sent. */
  private occupyLine(arrival: number, requestBytes: number): void {
    if (!this.wireTiming) return;
    const { line } = this.wireTiming;
    this.lineFreeAt = Math.max(arrival, this.lineFreeAt) + frameTimeMs(line, requestBytes) + t35Ms(line);
  }

  private schedule(arrival: number, requestBytes: number, answer: Buffer, extraDelayMs: number, send: SendBytes): void {
    let deliverAt = arrival + extraDelayMs;
    if (this.wireTiming) {
      const { line, turnaroundMs } = this.wireTiming;
      const requestEnd = Math.max(arrival, this.lineFreeAt) + frameTimeMs(line, requestBytes);
      const answerEnd = requestEnd + t35Ms(line) + turnaroundMs + frameTimeMs(line, answer.length);
      deliverAt = answerEnd + extraDelayMs;
      // a late (slow) answer does not hold the line: the master has moved on, as on a real bus
      this.lineFreeAt = extraDelayMs > 0 ? requestEnd + t35Ms(line) : answerEnd;
    }
    this.scheduler.at(deliverAt, () => {
      if (this.closed) return;
      this.counts.answered++;
      send(answer);
    });
  }
}
