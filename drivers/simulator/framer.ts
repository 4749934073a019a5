/**
 * Cuts a slave's incoming byte stream into requests, as a real slave does: a frame must pass its CRC; junk is
 * dropped and counted once per bad frame; bytes left waiting after a silence are a broken frame and dropped.
 */
import { extractRequest, type ModbusRequest } from '../modbus/rtu.js';

export type FramedEvent =
  | { kind: 'request'; request: ModbusRequest; length: number }
  /** A complete frame with a valid CRC for a function the simulator does not implement. */
  | { kind: 'unsupported'; unit: number; fn: number; length: number }
  /** A valid CRC but a byte count that contradicts the quantity (FC15/FC16). */
  | { kind: 'malformed'; unit: number; fn: number; length: number }
  | { kind: 'bad-frame' };

/**
 * After this much silence, bytes that still do not make a frame never will. Generous against a loaded test
 * machine splitting one frame, far below any master timeout.
 */
export const STALE_BYTES_MS = 50;

export class RequestFramer {
  private buffer: Buffer = Buffer.alloc(0);
  /** Inside a run of junk: the run has been counted once already. */
  private inJunk = false;
  private staleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly emit: (event: FramedEvent) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.drain();
    this.armStaleTimer();
  }

  close(): void {
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = null;
    this.buffer = Buffer.alloc(0);
  }

  private drain(): void {
    for (;;) {
      const result = extractRequest(this.buffer);
      if (result.kind === 'need-more') return;
      if (result.kind === 'invalid') {
        if (result.why === 'length') {
          this.emit({ kind: 'malformed', unit: this.buffer[0]!, fn: this.buffer[1]!, length: result.skip });
        } else if (!this.inJunk) {
          this.inJunk = true;
          this.emit({ kind: 'bad-frame' });
        }
        this.buffer = this.buffer.subarray(result.skip);
        continue;
      }
      this.inJunk = false;
      this.buffer = this.buffer.subarray(result.end);
      if (result.kind === 'request') this.emit({ kind: 'request', request: result.request, length: result.end });
      else this.emit({ kind: 'unsupported', unit: result.unit, fn: result.fn, length: result.end });
    }
  }

  private armStaleTimer(): void {
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = null;
    if (this.buffer.length === 0) return;
    this.staleTimer = setTimeout(() => this.flushStale(), STALE_BYTES_MS);
    this.staleTimer.unref();
  }

  /** A silence ended the frame: resynchronise on a valid frame inside the leftovers, or drop them all. */
  private flushStale(): void {
    this.staleTimer = null;
    if (this.buffer.length === 0) return;
    if (!this.inJunk) this.emit({ kind: 'bad-frame' });
    this.inJunk = false;
    for (let i = 1; i < this.buffer.length; i++) {
      const result = extractRequest(this.buffer.subarray(i));
      if (result.kind === 'request' || result.kind === 'unsupported') {
        this.buffer = this.buffer.subarray(i);
        this.drain();
        this.armStaleTimer();
        return;
      }
    }
    this.buffer = Buffer.alloc(0);
  }
}
