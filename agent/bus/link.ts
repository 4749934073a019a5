import { EventEmitter } from 'node:events';
import type { LineSettings } from '../../drivers/modbus/rtu.js';

/** Where one physical RS-485 line is reached: a local serial adapter, or raw RTU frames over TCP to a device server. */
export type Transport =
  | { kind: 'serial'; path: string; line: LineSettings }
  /** `line` describes the serial side of the device server; it is used for timing only. */
  | { kind: 'tcp'; host: string; port: number; line?: LineSettings };

/**
 * A byte pipe to an RS-485 line. One instance lives for one connection: after `close` it is spent, and a
 * reconnect builds a fresh one (a port object that saw a fatal error is never trusted again).
 */
export interface Link {
  /** For logs and failure details, e.g. "serial /dev/ttyUSB0" or "tcp 10.0.0.5:4001". */
  readonly name: string;
  /** Rejects when the port cannot be opened (missing device, refused connection). */
  open(): Promise<void>;
  /** Fire and forget: a write error surfaces as `close`. */
  write(frame: Buffer): void;
  /** Releases the port. Idempotent, never rejects, emits nothing. */
  destroy(): Promise<void>;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  /** Emitted once, only after a successful open, when the connection is lost for whatever reason. */
  on(event: 'close', listener: (cause: Error) => void): this;
}

/** Keeps the event contract of `Link` in one place: data only while open, `close` at most once. */
export abstract class LinkBase extends EventEmitter implements Link {
  private phase: 'new' | 'open' | 'spent' = 'new';

  constructor(readonly name: string) {
    super();
  }

  abstract open(): Promise<void>;
  abstract write(frame: Buffer): void;
  abstract destroy(): Promise<void>;

  protected get isOpen(): boolean {
    return this.phase === 'open';
  }

  protected markOpen(): void {
    if (this.phase === 'new') this.phase = 'open';
  }

  protected deliver(chunk: Buffer): void {
    if (this.phase === 'open') this.emit('data', chunk);
  }

  protected markLost(cause: Error): void {
    const wasOpen = this.phase === 'open';
    this.phase = 'spent';
    if (wasOpen) this.emit('close', cause);
  }

  /** For destroy(): silence the link before tearing it down, so our own close is not reported as a loss. */
  protected markSpent(): void {
    this.phase = 'spent';
  }
}
