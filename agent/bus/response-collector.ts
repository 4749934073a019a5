import type { TransactionOutcome } from '../../drivers/modbus/outcome.js';
import { crc16, describeException, extractResponse, type ModbusRequest } from '../../drivers/modbus/rtu.js';

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
  /** The request frame the transceiver is expected to echo back, and how much of it has come back so far. */
  private echo: Buffer | null = null;
  private echoMatched = 0;
  private echoesMissing = 0;
  /** This transaction expects an echo, and the whole of it came back. */
  private echoExpected = false;
  private echoComplete = false;
  /** Bytes received after the echo (or, without one, at all) in this transaction. */
  private bytesAfterEcho = 0;
  private echoesOnly = 0;

  /**
   * Starts collecting for `request`; returns how many stale bytes were thrown away (noise). With `echo`, the
   * line is a transceiver that hears its own transmission: those bytes come first and are skipped. Without
   * skipping them, the echo of a write (FC 5/6 answers repeat the request) would pass for the device's answer.
   */
  begin(request: ModbusRequest, expectedLength: number, echo?: Buffer): number {
    const stale = this.length + this.dropped;
    this.length = 0;
    this.dropped = 0;
    this.crcSeen = false;
    this.request = request;
    this.expectedLength = expectedLength;
    this.echo = echo ?? null;
    this.echoMatched = 0;
    this.echoExpected = echo !== undefined;
    this.echoComplete = false;
    this.bytesAfterEcho = 0;
    return stale;
  }

  /** Transactions where the configured echo did not come back (the transceiver does not echo, or wiring changed). */
  get missingEchoes(): number {
    return this.echoesMissing;
  }

  /**
   * Transactions that ended with our whole request echoed and nothing after it: the device stayed silent, or
   * the adapter does not echo and what came was the device's answer repeating the request byte for byte (FC 5
   * and 6 answers do), taken for the echo.
   */
  get echoOnly(): number {
    return this.echoesOnly;
  }

  /** Appends received bytes; returns the outcome once a valid answer (or exception) is there, else null. */
  push(chunk: Buffer): TransactionOutcome | null {
    const request = this.request;
    if (!request) {
      this.dropped += chunk.length;
      return null;
    }
    chunk = this.skipEcho(chunk);
    if (chunk.length === 0) return null;
    this.bytesAfterEcho += chunk.length;
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
    if (this.request === null) return false;
    if (this.crcSeen) return true;
    return this.length >= this.expectedLength && this.noiseLength() >= this.expectedLength;
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

  /** Received bytes that are not a complete, valid frame of some other exchange (another unit's late answer). */
  private noiseLength(): number {
    return this.length - foreignFrameBytes(this.buffer, this.length);
  }

  /**
   * The verdict when the time is up with no valid frame: a timeout if nothing came or what came may be the head
   * of our answer; crc or framing if what came can no longer be read as our answer.
   */
  timeoutOutcome(timeoutMs: number): TransactionOutcome {
    if (this.crcSeen) return this.quietOutcome();
    const limit = `${Math.round(timeoutMs)} ms`;
    const noise = this.noiseLength();
    if (this.length === 0) return { ok: false, failure: 'timeout', detail: `no answer within ${limit}` };
    if (noise === 0) {
      return { ok: false, failure: 'timeout', detail: `no answer within ${limit} (${this.length} bytes of answers to other requests ignored)` };
    }
    if (noise >= this.expectedLength || !this.couldHoldAnswerStart()) return this.quietOutcome();
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
    if (this.echo) {
      // Nothing at all came back, not even our own transmission: the echo is missing.
      if (this.echoMatched === 0) this.echoesMissing++;
      this.echo = null;
    }
    if (this.echoExpected && this.echoComplete && this.bytesAfterEcho === 0) this.echoesOnly++;
    this.echoExpected = false;
    return noise;
  }

  /**
   * Removes the echo of our request from the head of what arrives. A byte that differs means there is no echo
   * (or a damaged one): from there on everything counts as the answer, and the transaction is judged as usual.
   */
  private skipEcho(chunk: Buffer): Buffer {
    const echo = this.echo;
    if (!echo) return chunk;
    let i = 0;
    while (i < chunk.length && this.echoMatched < echo.length && chunk[i] === echo[this.echoMatched]) {
      i++;
      this.echoMatched++;
    }
    if (this.echoMatched === echo.length) {
      this.echo = null;
      this.echoComplete = true;
    } else if (i < chunk.length) {
      // Part of what came is not our echo: give back what we took for one and judge it all as the answer.
      this.echoesMissing++;
      const taken = echo.subarray(0, this.echoMatched);
      this.echo = null;
      return Buffer.concat([taken, chunk.subarray(i)]);
    }
    return chunk.subarray(i);
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

/**
 * Counts the bytes of `buf` that form complete answer frames with a valid CRC that are not the answer we wait for:
 * typically a slave answering after its master gave up on it. Each start position has
 * one possible length (from the function code and byte count), so a random byte stream passes by chance with
 * probability 2⁻¹⁶ per position.
 */
function foreignFrameBytes(buf: Buffer, length: number): number {
  let foreign = 0;
  let i = 0;
  while (i + 4 < length) {
    const frameLength = plausibleFrameLength(buf, i, length);
    if (frameLength > 0 && i + frameLength <= length && crc16(buf, i, i + frameLength - 2) === buf.readUInt16LE(i + frameLength - 2)) {
      foreign += frameLength;
      i += frameLength;
    } else {
      i++;
    }
  }
  return foreign;
}

/** The length a frame starting at `start` would have, from its function code (0 when it cannot be a frame). */
function plausibleFrameLength(buf: Buffer, start: number, length: number): number {
  const unit = buf[start]!;
  const fn = buf[start + 1]!;
  if (unit === 0 || unit > 247) return 0;
  if (fn >= 1 && fn <= 4) return start + 2 < length ? 5 + buf[start + 2]! : 0;
  if (fn === 5 || fn === 6 || fn === 15 || fn === 16) return 8;
  if (fn > 0x80 && fn <= 0x90) return 5;
  return 0;
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
