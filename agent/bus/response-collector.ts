import type { TransactionOutcome } from '../../drivers/modbus/outcome.js';
import { describeException, extractResponse, type ModbusRequest } from '../../drivers/modbus/rtu.js';

/** Twice the largest RTU frame (256 bytes): room for a full answer behind a burst of noise. */
const CAPACITY = 512;
/** Shortest frame extractResponse can accept (an exception: unit, fn, code, CRC). */
const MIN_FRAME = 5;

/**
 * Gathers the bytes that arrive for the request on the wire and decides what they amount to. One instance per
 * bus, reused for every transaction: the receive buffer is allocated once. No timers here; the bus decides when
 * the line has been quiet long enough or the time is up.
 */
export class ResponseCollector {
  private readonly buffer = Buffer.alloc(CAPACITY);
  private length = 0;
  private request: ModbusRequest | null = null;
  private expectedLength = 0;
  private crcSeen = false;
  /** Bytes dropped to make room, not yet reported as noise. */
  private dropped = 0;

  /** Starts collecting for `request`; returns how many stale bytes were thrown away (noise). */
  begin(request: ModbusRequest, expectedLength: number): number {
    const stale = this.length + this.dropped;
    this.length = 0;
    this.dropped = 0;
    this.crcSeen = false;
    this.request = request;
    this.expectedLength = expectedLength;
    return stale;
  }

  /** Appends received bytes; returns the outcome once a valid answer (or exception) is there, else null. */
  push(chunk: Buffer): TransactionOutcome | null {
    const request = this.request;
    if (!request) {
      this.dropped += chunk.length;
      return null;
    }
    this.append(chunk);
    if (this.length < MIN_FRAME) return null;
    const found = extractResponse(request, this.buffer.subarray(0, this.length));
    switch (found.kind) {
      case 'none':
        if (found.crcSeen) this.crcSeen = true;
        return null;
      case 'exception':
        this.consume(found.start, found.end);
        return { ok: false, failure: 'exception', exceptionCode: found.code, detail: describeException(found.code) };
      case 'response': {
        this.consume(found.start, found.end);
        const response = found.response;
        if (response.fn === 3 || response.fn === 4) return { ok: true, registers: response.registers };
        if (response.fn === 1 || response.fn === 2) return { ok: true, bits: response.bits };
        if (!('address' in response)) return { ok: true };
        const mismatch = echoMismatch(request, response.address, response.quantityOrValue);
        return mismatch ? { ok: false, failure: 'framing', detail: mismatch } : { ok: true };
      }
    }
  }

  /**
   * Whether what arrived can already be judged once the line falls quiet: a whole frame's worth of bytes, or a
   * frame-shaped run that failed its CRC. Fewer bytes may still be the head of a slow answer.
   */
  get judgeable(): boolean {
    return this.request !== null && (this.crcSeen || this.length >= this.expectedLength);
  }

  get bytesReceived(): number {
    return this.length;
  }

  /** The verdict after the line fell quiet with no valid frame. */
  quietOutcome(): TransactionOutcome {
    return this.crcSeen
      ? { ok: false, failure: 'crc', detail: `answer failed its CRC check (${this.length} bytes received)` }
      : { ok: false, failure: 'framing', detail: `no valid frame in ${this.length} bytes received (noise)` };
  }

  /**
   * The verdict when the time is up with no valid frame: a timeout if nothing came or what came may be the head
   * of our answer; crc or framing if what came can no longer be read as our answer.
   */
  timeoutOutcome(timeoutMs: number): TransactionOutcome {
    if (this.crcSeen) return this.quietOutcome();
    const limit = `${Math.round(timeoutMs)} ms`;
    if (this.length === 0) return { ok: false, failure: 'timeout', detail: `no answer within ${limit}` };
    if (this.length >= this.expectedLength || !this.couldHoldAnswerStart()) return this.quietOutcome();
    return {
      ok: false,
      failure: 'timeout',
      detail: `no complete answer within ${limit} (${this.length} of ${this.expectedLength} bytes received)`,
    };
  }

  /** Ends the transaction; returns the bytes received that were not part of the accepted frame (noise). */
  end(): number {
    const noise = this.length + this.dropped;
    this.length = 0;
    this.dropped = 0;
    this.request = null;
    return noise;
  }

  /** Whether some received byte could be the start of our answer (our unit, then our function or its exception). */
  private couldHoldAnswerStart(): boolean {
    const request = this.request;
    if (!request) return false;
    for (let i = 0; i < this.length; i++) {
      if (this.buffer[i] !== request.unit) continue;
      if (i + 1 === this.length) return true;
      const fn = this.buffer[i + 1]!;
      if (fn === request.fn || fn === (request.fn | 0x80)) return true;
    }
    return false;
  }

  private append(chunk: Buffer): void {
    if (chunk.length >= CAPACITY) {
      this.dropped += this.length + chunk.length - CAPACITY;
      chunk.copy(this.buffer, 0, chunk.length - CAPACITY);
      this.length = CAPACITY;
      return;
    }
    const overflow = this.length + chunk.length - CAPACITY;
    if (overflow > 0) {
      // Keep the newest bytes: a valid answer is at the tail of a noise burst, never at its head.
      this.buffer.copy(this.buffer, 0, overflow, this.length);
      this.length -= overflow;
      this.dropped += overflow;
    }
    chunk.copy(this.buffer, this.length);
    this.length += chunk.length;
  }

  /** Takes the accepted frame out; what remains is noise. */
  private consume(start: number, end: number): void {
    this.length -= end - start;
  }
}

/** A write is acknowledged by echoing address and value/quantity; an echo of something else is not an ack. */
function echoMismatch(request: ModbusRequest, address: number, quantityOrValue: number): string | null {
  let expected: number;
  switch (request.fn) {
    case 5:
      expected = request.value ? 0xff00 : 0x0000;
      break;
    case 6:
      expected = request.value & 0xffff;
      break;
    case 15:
    case 16:
      expected = request.values.length;
      break;
    default:
      return null;
  }
  if (address === request.address && quantityOrValue === expected) return null;
  return `write not confirmed: the device echoed address ${address} value ${quantityOrValue}, expected address ${request.address} value ${expected}`;
}
