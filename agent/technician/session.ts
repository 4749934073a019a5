/**
 * A technician's own connection to a field bus: one RS-485 line (serial adapter or RTU-over-TCP device server)
 * driven through the project's bus owner, for one command's lifetime. Unlike the agent, it speaks to any unit
 * id on demand and never fences a device off: a technician wants every answer, or its absence, right now.
 */
import { createLink, ModbusBus, type BreakerSettings, type Transport, type WriteRequest } from '../bus/index.js';
import type { ReadBlock, TransactionOutcome } from '../../drivers/modbus/index.js';
import type { LineSettings } from '../../drivers/modbus/index.js';

/** A breaker that never opens: scanning and probing must put every request on the wire. */
const NEVER_OPENS: BreakerSettings = { failures: Number.MAX_SAFE_INTEGER, minBackoff: 1, maxBackoff: 1 };
const CONNECT_WAIT_MS = 5_000;

export interface SessionOptions {
  /** Device turnaround allowed per request, ms (the bus adds the wire time of request and answer). */
  timeoutMs: number;
  /** Retries of a read that timed out or came back garbled (writes are never retried). */
  retries: number;
}

export interface RequestTiming {
  timeoutMs?: number;
  requestGapMs?: number;
}

/** The port could not be opened: wrong path, adapter missing, permission, refused connection. */
export class BusOpenError extends Error {
  override name = 'BusOpenError';
}

export function describeLine(line: LineSettings): string {
  const parity = line.parity === 'none' ? 'N' : line.parity === 'even' ? 'E' : 'O';
  return `${line.baud} ${line.dataBits}${parity}${line.stopBits}`;
}

export function describeTransport(transport: Transport): string {
  return transport.kind === 'serial'
    ? `${transport.path} ${describeLine(transport.line)}`
    : `tcp ${transport.host}:${transport.port}`;
}

export class FieldBusSession {
  private readonly devices = new Set<string>();
  private closed = false;

  private constructor(
    private readonly bus: ModbusBus,
    readonly transport: Transport,
    private readonly options: SessionOptions,
  ) {}

  /** Opens the port (rejects with BusOpenError when it cannot be opened) and waits until the bus is up. */
  static async open(transport: Transport, options: SessionOptions): Promise<FieldBusSession> {
    // Open once by hand first: the bus itself retries a missing port for ever, and a technician needs the reason.
    const trial = createLink(transport);
    try {
      await trial.open();
    } catch (error) {
      throw new BusOpenError(`cannot open ${describeTransport(transport)}: ${(error as Error).message}`);
    } finally {
      await trial.destroy();
    }
    const bus = new ModbusBus({ id: 'technician', transport, timeoutMs: options.timeoutMs, retries: options.retries });
    const connected = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), CONNECT_WAIT_MS);
      bus.once('connected', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    bus.start();
    if (!(await connected)) {
      await bus.stop();
      throw new BusOpenError(`cannot open ${describeTransport(transport)}: not connected within ${CONNECT_WAIT_MS} ms`);
    }
    return new FieldBusSession(bus, transport, options);
  }

  read(unit: number, block: ReadBlock, timing: RequestTiming = {}): Promise<TransactionOutcome> {
    return this.bus.read(this.deviceFor(unit, timing), block, 'normal');
  }

  write(unit: number, request: WriteRequest, timing: RequestTiming = {}): Promise<TransactionOutcome> {
    return this.bus.write(this.deviceFor(unit, timing), request);
  }

  /** Bytes that arrived when nobody was asking, or did not make a frame: a hint of a device at other settings. */
  noiseBytes(): number {
    return this.bus.counters().noiseBytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.bus.stop();
  }

  /** One bus device per unit and timing, so a slow model's timeout applies to its requests only. */
  private deviceFor(unit: number, timing: RequestTiming): string {
    const timeoutMs = timing.timeoutMs ?? this.options.timeoutMs;
    const requestGapMs = timing.requestGapMs ?? 0;
    const id = `unit-${unit}-${timeoutMs}-${requestGapMs}`;
    if (!this.devices.has(id)) {
      this.bus.addDevice(id, { unit, timeoutMs, retries: this.options.retries, requestGapMs, breaker: NEVER_OPENS });
      this.devices.add(id);
    }
    return id;
  }
}
