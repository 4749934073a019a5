import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { ReadBlock, TransactionFailure, TransactionOutcome } from '../../drivers/modbus/outcome.js';
import {
  charTimeMs,
  encodeRequest,
  expectedResponseLength,
  MAX_READ_BITS,
  MAX_READ_REGISTERS,
  MAX_WRITE_BITS,
  MAX_WRITE_REGISTERS,
  t35Ms,
  type LineSettings,
  type ModbusRequest,
  type WriteFunction,
} from '../../drivers/modbus/rtu.js';
import { silentLogger, type Logger } from '../log/index.js';
import { Backoff } from './backoff.js';
import { Breaker, type BreakerSettings } from './breaker.js';
import { DeviceTally, type BusCounters, type DeviceCounters } from './counters.js';
import { createLink } from './create-link.js';
import { JobQueue, type JobPriority } from './job-queue.js';
import { LineSaturation } from './line-saturation.js';
import type { Link, Transport } from './link.js';
import { PreciseAlarm } from './precise-alarm.js';
import { ResponseCollector } from './response-collector.js';

export interface BusOptions {
  id: string;
  transport: Transport;
  /** How long a device may take to answer, ms (wire time of request and answer is added when the line is known). */
  timeoutMs: number;
  /** Retries of a failed read (never of a write). */
  retries: number;
  /** Silence after every transaction, ms. Default: t3.5 of the line (1.75 ms above 19200 baud); 1.75 ms for TCP without a line. */
  guardMs?: number;
  /** The transceiver hears its own transmission (some 2-wire RS-485 adapters): skip our request's echo. */
  echo?: boolean;
  /** Reconnect back-off, ms; doubles per failed attempt, with full jitter. Default 500 ms → 30 s. */
  reconnect?: { minMs: number; maxMs: number };
  logger?: Logger;
  /**
   * Called as a request leaves for the wire and as its transaction completes (performance.now() ms): for
   * wire-level timing (bench:safety) and diagnostics. Must be cheap and must not throw.
   */
  trace?: (event: BusTraceEvent) => void;
}

export interface BusTraceEvent {
  kind: 'sent' | 'completed';
  deviceId: string;
  fn: number;
  monoTs: number;
  ok?: boolean;
}

export interface DeviceOptions {
  /** Modbus unit id, 1–247. */
  unit: number;
  timeoutMs?: number;
  retries?: number;
  /** Extra silence on the line before every request to this device, ms (for devices that need a pause). */
  requestGapMs?: number;
  breaker: BreakerSettings;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A Modbus write (FC 5, 6, 15 or 16) addressed to a device by its id rather than its unit. */
export type WriteRequest = DistributiveOmit<Extract<ModbusRequest, { fn: WriteFunction }>, 'unit'>;

export type BusEvent = 'connected' | 'disconnected';

interface DeviceEntry {
  readonly id: string;
  readonly unit: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly requestGapMs: number;
  readonly breaker: Breaker;
  readonly tally: DeviceTally;
}

interface Job {
  readonly device: DeviceEntry;
  readonly request: ModbusRequest;
  readonly frame: Buffer;
  readonly expectedLength: number;
  /** Response deadline after the request is written, ms. */
  readonly deadlineMs: number;
  readonly priority: JobPriority;
  readonly isWrite: boolean;
  attemptsLeft: number;
  probe: boolean;
  readonly resolve: (outcome: TransactionOutcome) => void;
}

type LinkState = 'idle' | 'connecting' | 'up' | 'down' | 'stopped';

const DEFAULT_RECONNECT = { minMs: 500, maxMs: 30_000 } as const;
/** Guard on a line whose speed is unknown (TCP without line settings): the fast-line t3.5. */
const UNKNOWN_LINE_GUARD_MS = 1.75;
/**
 * After bytes stop arriving, how long to wait before judging them. A pty or a TCP device server delivers a frame
 * in several chunks with gaps, so the gap inside one frame can far exceed t3.5.
 */
const MIN_SETTLE_MS = 20;

const RETRYABLE: ReadonlySet<TransactionFailure> = new Set(['timeout', 'crc', 'framing']);
const BUS_STOPPED = 'bus stopped';
/** How often at most the bus says that only its own request came back (echo on). */
const ECHO_ONLY_WARN_INTERVAL_MS = 60_000;

/**
 * The owner of one physical RS-485 line: the only code that touches its port. Every request goes through one
 * single-flight priority queue (write > critical > normal > low, FIFO within a priority); a silence of at least
 * t3.5 separates transactions; a dead device is fenced off by its breaker; a lost port is reopened, as a fresh
 * link, with back-off. Nothing here throws or rejects for anything a device or a port does.
 */
export class ModbusBus {
  readonly id: string;
  private readonly options: BusOptions;
  private readonly log: Logger;
  private echoOnlyWarnedAt = -Infinity;
  private readonly events = new EventEmitter();
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly unknownDevicesLogged = new Set<string>();
  private readonly queue = new JobQueue<Job>();
  private readonly collector = new ResponseCollector();
  private readonly guardMs: number;
  private readonly settleMs: number;
  private readonly charMs: number;
  private readonly reconnectBackoff: Backoff;
  private readonly reconnectMaxMs: number;

  private state: LinkState = 'idle';
  private link: Link | null = null;
  private lastLinkError = 'not started';
  private everConnected = false;
  private connectedAt = 0;
  /** Whether the current link has carried a valid frame (a link that only opens and drops must keep backing off). */
  private linkProven = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  private current: Job | null = null;
  private sentAt = 0;
  private responseTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  /** When the line last fell silent (end of the last transaction); the guard counts from here. */
  private quietSince = -Infinity;
  private readonly saturation: LineSaturation;
  private readonly guardAlarm: PreciseAlarm;

  private startedAt = 0;
  private busyMs = 0;
  private transactions = 0;
  private noiseBytes = 0;
  private reconnects = 0;
  private disconnects = 0;

  constructor(options: BusOptions) {
    this.options = options;
    this.id = options.id;
    this.log = (options.logger ?? silentLogger()).child({ bus: options.id });
    const line: LineSettings | undefined = options.transport.line;
    const t35 = line ? t35Ms(line) : UNKNOWN_LINE_GUARD_MS;
    this.guardMs = options.guardMs ?? t35;
    this.settleMs = Math.max(3 * t35, MIN_SETTLE_MS);
    this.charMs = line ? charTimeMs(line) : 0;
    const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
    this.reconnectBackoff = new Backoff(reconnect.minMs, reconnect.maxMs);
    this.reconnectMaxMs = reconnect.maxMs;
    this.guardAlarm = new PreciseAlarm(() => this.pump());
    this.saturation = new LineSaturation(this.charMs, this.guardMs, performance.now());
  }

  get connected(): boolean {
    return this.state === 'up';
  }

  on(event: BusEvent, listener: () => void): this {
    this.events.on(event, listener);
    return this;
  }

  once(event: BusEvent, listener: () => void): this {
    this.events.once(event, listener);
    return this;
  }

  off(event: BusEvent, listener: () => void): this {
    this.events.off(event, listener);
    return this;
  }

  /** Opens the link in the background. A missing port is not an error here: the bus keeps retrying. */
  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.startedAt = performance.now();
    this.busyMs = 0;
    this.everConnected = false;
    this.connect();
  }

  /** Closes the link for good. Every pending job resolves port-down. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    const wasUp = this.state === 'up';
    this.state = 'stopped';
    this.lastLinkError = BUS_STOPPED;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.failPending(BUS_STOPPED);
    const link = this.link;
    this.link = null;
    if (link) await link.destroy();
    if (wasUp) this.emit('disconnected');
  }

  addDevice(deviceId: string, options: DeviceOptions): void {
    if (this.devices.has(deviceId)) throw new Error(`device ${deviceId} is already on bus ${this.id}`);
    if (!Number.isInteger(options.unit) || options.unit < 1 || options.unit > 247) {
      throw new Error(`device ${deviceId}: unit ${options.unit} is not a Modbus unit id (1-247)`);
    }
    this.devices.set(deviceId, {
      id: deviceId,
      unit: options.unit,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs,
      retries: options.retries ?? this.options.retries,
      requestGapMs: options.requestGapMs ?? 0,
      breaker: new Breaker(options.breaker),
      tally: new DeviceTally(),
    });
  }

  /** Reads one block. Never rejects: every failure is an outcome. */
  read(deviceId: string, block: ReadBlock, priority: Exclude<JobPriority, 'write'>): Promise<TransactionOutcome> {
    const device = this.devices.get(deviceId);
    if (!device) return settleSoon(this.unknownDevice(deviceId));
    const invalid = invalidRead(block);
    if (invalid) return settleSoon(invalid);
    if (!this.accepting()) {
      device.tally.portDown++;
      return settleSoon(this.portDownOutcome());
    }
    const now = performance.now();
    if (device.breaker.rejects(now)) {
      device.tally.breakerRejections++;
      return settleSoon(breakerOutcome(device.breaker.describeRefusal(now)));
    }
    const request: ModbusRequest = { unit: device.unit, fn: block.fn, address: block.address, count: block.count };
    return new Promise((resolve) => this.enqueue(device, request, priority, device.retries, resolve));
  }

  /** Writes once, ahead of every queued poll; never retried (a repeated write may act twice). Never rejects. */
  write(deviceId: string, request: WriteRequest): Promise<TransactionOutcome> {
    const device = this.devices.get(deviceId);
    if (!device) return settleSoon(this.unknownDevice(deviceId));
    const invalid = invalidWrite(request);
    if (invalid) return settleSoon(invalid);
    if (!this.accepting()) {
      device.tally.portDown++;
      return settleSoon(this.portDownOutcome());
    }
    const addressed = { ...request, unit: device.unit } as ModbusRequest;
    return new Promise((resolve) => this.enqueue(device, addressed, 'write', 0, resolve));
  }

  deviceCounters(deviceId: string): DeviceCounters {
    const device = this.devices.get(deviceId);
    if (!device) throw new Error(`device ${deviceId} is not on bus ${this.id}`);
    return device.tally.snapshot(device.breaker.status(performance.now()));
  }

  counters(): BusCounters {
    const now = performance.now();
    const busy = this.busyMs + (this.current ? now - this.sentAt : 0);
    const elapsed = this.state === 'idle' ? 0 : now - this.startedAt;
    return {
      connected: this.connected,
      reconnects: this.reconnects,
      disconnects: this.disconnects,
      noiseBytes: this.noiseBytes,
      queueDepth: this.queue.size,
      transactions: this.transactions,
      busyRatio: elapsed > 0 ? Math.min(1, busy / elapsed) : 0,
      saturated: this.saturation.saturated(now, this.current !== null || this.queue.size > 0),
      ...(this.options.echo ? { missingEchoes: this.collector.missingEchoes, echoOnly: this.collector.echoOnly } : {}),
    };
  }

  // ----------------------------------------------------------------------------------------------------------
  // Link lifecycle

  private connect(): void {
    this.reconnectTimer = undefined;
    this.state = 'connecting';
    const link = createLink(this.options.transport);
    this.link = link;
    link.on('data', (chunk) => {
      if (this.link === link) this.onData(chunk);
    });
    link.on('close', (cause) => {
      if (this.link === link) this.onLinkLost(link, cause);
    });
    link.open().then(
      () => {
        if (this.link !== link) return;
        this.state = 'up';
        if (this.everConnected) this.reconnects++;
        this.everConnected = true;
        this.linkProven = false;
        this.connectedAt = performance.now();
        this.quietSince = this.connectedAt;
        this.saturation.restart(this.connectedAt);
        this.lastLinkError = '';
        this.log.info({ link: link.name }, 'bus connected');
        this.emit('connected');
        this.pump();
      },
      (error: unknown) => {
        if (this.link !== link) return;
        this.link = null;
        const reason = errorMessage(error);
        // The first failure is news; the same failure every back-off period is not.
        if (reason !== this.lastLinkError) this.log.warn({ link: link.name, err: reason }, 'cannot open bus port');
        this.lastLinkError = reason;
        this.state = 'down';
        this.failPending(this.portDownDetail());
        this.scheduleReconnect();
      },
    );
  }

  private onLinkLost(link: Link, cause: Error): void {
    this.link = null;
    void link.destroy();
    this.lastLinkError = cause.message;
    this.disconnects++;
    this.state = 'down';
    if (this.linkProven || performance.now() - this.connectedAt > this.reconnectMaxMs) this.reconnectBackoff.reset();
    this.log.warn({ link: link.name, err: cause.message }, 'bus port lost; reconnecting');
    this.failPending(this.portDownDetail());
    this.emit('disconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped') return;
    this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectBackoff.next());
  }

  /** Jobs are taken while connected, and during the very first open so polls issued at boot are not lost. */
  private accepting(): boolean {
    return this.state === 'up' || (this.state === 'connecting' && !this.everConnected);
  }

  private emit(event: BusEvent): void {
    try {
      this.events.emit(event);
    } catch (error) {
      this.log.error({ err: errorMessage(error), event }, 'bus event listener threw');
    }
  }

  // ----------------------------------------------------------------------------------------------------------
  // Queue and transactions

  private enqueue(
    device: DeviceEntry,
    request: ModbusRequest,
    priority: JobPriority,
    retries: number,
    resolve: (outcome: TransactionOutcome) => void,
  ): void {
    const frame = encodeRequest(request);
    const expectedLength = expectedResponseLength(request);
    this.saturation.jobQueued(performance.now(), !this.current && this.queue.size === 0, this.quietSince);
    this.queue.push(
      {
        device,
        request,
        frame,
        expectedLength,
        // A slow line spends real time carrying the frames; the device's timeout is for its own turnaround.
        deadlineMs: device.timeoutMs + (frame.length + expectedLength) * this.charMs,
        priority,
        isWrite: priority === 'write',
        attemptsLeft: retries,
        probe: false,
        resolve,
      },
      priority,
    );
    this.pump();
  }

  /** Puts the next job on the wire if the line is free and has been silent long enough. */
  private pump(): void {
    if (this.state !== 'up' || this.current || this.guardAlarm.pending) return;
    for (;;) {
      const job = this.queue.peek();
      if (!job) return;
      const now = performance.now();
      if (!job.isWrite && job.device.breaker.rejects(now)) {
        this.queue.shift();
        job.device.tally.breakerRejections++;
        job.resolve(breakerOutcome(job.device.breaker.describeRefusal(now)));
        continue;
      }
      // Peek, wait, then look again: a write arriving during the silence still goes first.
      const readyAt = this.quietSince + this.guardMs + job.device.requestGapMs;
      if (now < readyAt) {
        this.guardAlarm.at(readyAt, this.saturation.guardToleranceMs(now));
        return;
      }
      this.queue.shift();
      if (!job.isWrite && job.device.breaker.beginRead()) {
        job.probe = true;
        // One probe, one request: a dead device must stay cheap.
        job.attemptsLeft = 0;
      }
      this.send(job);
      return;
    }
  }

  private send(job: Job): void {
    const link = this.link;
    if (!link) return;
    this.current = job;
    this.noiseBytes += this.collector.begin(job.request, job.expectedLength, this.options.echo ? job.frame : undefined);
    job.device.tally.requests++;
    this.transactions++;
    this.sentAt = performance.now();
    link.write(job.frame);
    this.options.trace?.({ kind: 'sent', deviceId: job.device.id, fn: job.request.fn, monoTs: this.sentAt });
    if (this.current === job) this.responseTimer = setTimeout(this.onResponseTimeout, job.deadlineMs);
  }

  private onData(chunk: Buffer): void {
    if (!this.current) {
      // Nobody asked: a late answer, a chattering device, or line noise.
      this.noiseBytes += chunk.length;
      return;
    }
    const outcome = this.collector.push(chunk);
    if (outcome) {
      this.complete(outcome);
    } else if (this.collector.judgeable) {
      if (this.settleTimer) this.settleTimer.refresh();
      else this.settleTimer = setTimeout(this.onSettled, this.settleMs);
    }
  }

  private readonly onResponseTimeout = (): void => {
    this.responseTimer = undefined;
    const job = this.current;
    if (job) this.complete(this.collector.timeoutOutcome(job.deadlineMs));
  };

  private readonly onSettled = (): void => {
    this.settleTimer = undefined;
    if (this.current) this.complete(this.collector.quietOutcome());
  };

  private complete(outcome: TransactionOutcome): void {
    const job = this.current;
    if (!job) return;
    this.current = null;
    this.clearTransactionTimers();
    const now = performance.now();
    this.busyMs += now - this.sentAt;
    this.quietSince = now;
    const echoOnlyBefore = this.collector.echoOnly;
    this.noiseBytes += this.collector.end();
    const device = job.device;
    if (this.collector.echoOnly > echoOnlyBefore) this.warnEchoOnly(device.id, job.request.fn, now);
    device.tally.record(outcome, now - this.sentAt);
    this.options.trace?.({ kind: 'completed', deviceId: device.id, fn: job.request.fn, monoTs: now, ok: outcome.ok });
    const answered = outcome.ok || outcome.failure === 'exception';
    if (answered && !this.linkProven) {
      this.linkProven = true;
      this.reconnectBackoff.reset();
    }

    if (!outcome.ok && !job.isWrite && job.attemptsLeft > 0 && RETRYABLE.has(outcome.failure)) {
      job.attemptsLeft--;
      device.tally.retries++;
      this.queue.pushFront(job, job.priority);
      this.pump();
      return;
    }

    if (answered) {
      if (device.breaker.recordAnswer()) this.log.info({ device: device.id }, 'device answering again; breaker closed');
    } else if (!job.isWrite && device.breaker.recordFailure(now)) {
      const status = device.breaker.status(now);
      this.log.warn(
        { device: device.id, failure: outcome.failure, detail: outcome.detail, backoffMs: status.backoffMs },
        'device not answering; breaker open',
      );
    }
    job.resolve(outcome);
    this.pump();
  }

  /** At most once a minute: a silent device on an echoing line repeats it at every poll. */
  private warnEchoOnly(deviceId: string, fn: number, now: number): void {
    if (now - this.echoOnlyWarnedAt < ECHO_ONLY_WARN_INTERVAL_MS) return;
    this.echoOnlyWarnedAt = now;
    this.log.warn(
      { device: deviceId, fn, echoOnly: this.collector.echoOnly },
      'only our request came back: the device is silent, or the adapter does not echo — then set echo: false',
    );
  }

  private clearTransactionTimers(): void {
    if (this.responseTimer) clearTimeout(this.responseTimer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.responseTimer = undefined;
    this.settleTimer = undefined;
  }

  /** Resolves the job on the wire and every queued job as port-down. */
  private failPending(detail: string): void {
    this.guardAlarm.cancel();
    const outcome: TransactionOutcome = { ok: false, failure: 'port-down', detail };
    const current = this.current;
    if (current) {
      this.current = null;
      this.clearTransactionTimers();
      this.busyMs += performance.now() - this.sentAt;
      this.noiseBytes += this.collector.end();
    }
    const jobs = current ? [current, ...this.queue.takeAll()] : this.queue.takeAll();
    for (const job of jobs) {
      if (job.probe) job.device.breaker.abandonProbe();
      job.device.tally.portDown++;
      job.resolve(outcome);
    }
  }

  private portDownDetail(): string {
    if (this.state === 'stopped') return BUS_STOPPED;
    const name = describeTransport(this.options.transport);
    return this.lastLinkError ? `${name} is down (${this.lastLinkError}); reconnecting` : `${name} is down; reconnecting`;
  }

  private portDownOutcome(): TransactionOutcome {
    return { ok: false, failure: 'port-down', detail: this.portDownDetail() };
  }

  private unknownDevice(deviceId: string): TransactionOutcome {
    // A wiring bug, not a field condition; still an outcome, so a poll loop cannot be brought down by it.
    if (!this.unknownDevicesLogged.has(deviceId)) {
      this.unknownDevicesLogged.add(deviceId);
      this.log.error({ device: deviceId }, 'request for a device that was never added to this bus');
    }
    return { ok: false, failure: 'port-down', detail: `device ${deviceId} is not on bus ${this.id}` };
  }
}

/**
 * Refusals (open breaker, port down, bad request) resolve on the next event-loop turn rather than as a microtask:
 * a caller that asks again in a tight loop then still lets I/O and timers run, and the rest of the bus with them.
 */
function settleSoon(outcome: TransactionOutcome): Promise<TransactionOutcome> {
  return new Promise((resolve) => setImmediate(resolve, outcome));
}

function breakerOutcome(detail: string): TransactionOutcome {
  return { ok: false, failure: 'breaker-open', detail };
}

function describeTransport(transport: Transport): string {
  return transport.kind === 'serial' ? `serial port ${transport.path}` : `device server ${transport.host}:${transport.port}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A request the device would refuse anyway is refused here with the exception it would send, without wire time. */
function refusedLocally(code: 2 | 3, why: string): TransactionOutcome {
  const name = code === 2 ? 'illegal data address' : 'illegal data value';
  return { ok: false, failure: 'exception', exceptionCode: code, detail: `Modbus exception ${code} (${name}), refused locally: ${why}` };
}

function invalidRead(block: ReadBlock): TransactionOutcome | null {
  const max = block.fn <= 2 ? MAX_READ_BITS : MAX_READ_REGISTERS;
  if (!Number.isInteger(block.count) || block.count < 1 || block.count > max) {
    return refusedLocally(3, `count ${block.count} is outside 1-${max}`);
  }
  if (!Number.isInteger(block.address) || block.address < 0 || block.address + block.count > 0x10000) {
    return refusedLocally(2, `address ${block.address} + count ${block.count} is outside 0-65535`);
  }
  return null;
}

function invalidWrite(request: WriteRequest): TransactionOutcome | null {
  const count = request.fn === 15 || request.fn === 16 ? request.values.length : 1;
  const max = request.fn === 15 ? MAX_WRITE_BITS : request.fn === 16 ? MAX_WRITE_REGISTERS : 1;
  if (count < 1 || count > max) return refusedLocally(3, `${count} values is outside 1-${max}`);
  if (!Number.isInteger(request.address) || request.address < 0 || request.address + count > 0x10000) {
    return refusedLocally(2, `address ${request.address} + ${count} values is outside 0-65535`);
  }
  if (request.fn === 6 && (!Number.isInteger(request.value) || request.value < -0x8000 || request.value > 0xffff)) {
    return refusedLocally(3, `value ${request.value} does not fit a register`);
  }
  return null;
}
