/**
 * Modbus RTU framing, both sides of the wire: CRC, request and response frames, and the search for a valid
 * frame in a byte stream that may carry noise, late answers from other slaves or truncated frames.
 * Pure functions over Buffers: no I/O, no timers.
 */

export type ReadFunction = 1 | 2 | 3 | 4;
export type WriteFunction = 5 | 6 | 15 | 16;
export type FunctionCode = ReadFunction | WriteFunction;

export type ModbusRequest =
  | { unit: number; fn: ReadFunction; address: number; count: number }
  | { unit: number; fn: 5; address: number; value: boolean }
  | { unit: number; fn: 6; address: number; value: number }
  | { unit: number; fn: 15; address: number; values: boolean[] }
  | { unit: number; fn: 16; address: number; values: number[] };

export type ModbusResponse =
  | { fn: 1 | 2; bits: boolean[] }
  | { fn: 3 | 4; registers: number[] }
  | { fn: WriteFunction; address: number; quantityOrValue: number };

/** The most a single request may ask for, per the Modbus application protocol. */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;
export const MAX_WRITE_REGISTERS = 123;
export const MAX_WRITE_BITS = 1968;

export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export function describeException(code: number): string {
  return `Modbus exception ${code} (${EXCEPTION_NAMES[code] ?? 'unknown'})`;
}

const CRC_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). */
export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc;
}

/** Appends the CRC, low byte first as RTU sends it. */
export function withCrc(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length + 2);
  out.set(body, 0);
  out.writeUInt16LE(crc16(body), body.length);
  return out;
}

function hasValidCrc(buf: Uint8Array, start: number, length: number): boolean {
  if (length < 4 || start + length > buf.length) return false;
  const expected = buf[start + length - 2]! | (buf[start + length - 1]! << 8);
  return crc16(buf, start, start + length - 2) === expected;
}

function packBits(values: readonly boolean[]): Buffer {
  const out = Buffer.alloc(Math.ceil(values.length / 8));
  values.forEach((on, i) => {
    if (on) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

function unpackBits(buf: Uint8Array, offset: number, count: number): boolean[] {
  const bits: boolean[] = [];
  for (let i = 0; i < count; i++) bits.push(((buf[offset + (i >> 3)]! >> (i & 7)) & 1) === 1);
  return bits;
}

// ---------------------------------------------------------------------------------------------------------------
// Master side

export function encodeRequest(req: ModbusRequest): Buffer {
  switch (req.fn) {
    case 1:
    case 2:
    case 3:
    case 4: {
      const body = Buffer.alloc(6);
      body.writeUInt8(req.unit, 0);
      body.writeUInt8(req.fn, 1);
      body.writeUInt16BE(req.address, 2);
      body.writeUInt16BE(req.count, 4);
      return withCrc(body);
    }
    case 5:
    case 6: {
      const body = Buffer.alloc(6);
      body.writeUInt8(req.unit, 0);
      body.writeUInt8(req.fn, 1);
      body.writeUInt16BE(req.address, 2);
      body.writeUInt16BE(req.fn === 5 ? (req.value ? 0xff00 : 0x0000) : req.value & 0xffff, 4);
      return withCrc(body);
    }
    case 15: {
      const bits = packBits(req.values);
      const body = Buffer.alloc(7 + bits.length);
      body.writeUInt8(req.unit, 0);
      body.writeUInt8(15, 1);
      body.writeUInt16BE(req.address, 2);
      body.writeUInt16BE(req.values.length, 4);
      body.writeUInt8(bits.length, 6);
      body.set(bits, 7);
      return withCrc(body);
    }
    case 16: {
      const body = Buffer.alloc(7 + req.values.length * 2);
      body.writeUInt8(req.unit, 0);
      body.writeUInt8(16, 1);
      body.writeUInt16BE(req.address, 2);
      body.writeUInt16BE(req.values.length, 4);
      body.writeUInt8(req.values.length * 2, 6);
      req.values.forEach((v, i) => body.writeUInt16BE(v & 0xffff, 7 + i * 2));
      return withCrc(body);
    }
  }
}

/** Length in bytes of the normal (non-exception) response to a request. */
export function expectedResponseLength(req: ModbusRequest): number {
  switch (req.fn) {
    case 1:
    case 2:
      return 5 + Math.ceil(req.count / 8);
    case 3:
    case 4:
      return 5 + 2 * req.count;
    default:
      return 8;
  }
}

export type ExtractResult =
  | { kind: 'response'; response: ModbusResponse; start: number; end: number }
  | { kind: 'exception'; code: number; start: number; end: number }
  /** No valid frame yet. `crcSeen`: a frame-shaped run of bytes for this request failed its CRC. */
  | { kind: 'none'; crcSeen: boolean };

/**
 * Looks for the answer to `req` anywhere in `buf`. Bytes before it (noise, a late answer from another unit)
 * are skipped; a frame-shaped run whose CRC fails is noted and skipped. Nothing is trusted without its CRC.
 */
export function extractResponse(req: ModbusRequest, buf: Uint8Array): ExtractResult {
  let crcSeen = false;
  const normalLength = expectedResponseLength(req);
  for (let i = 0; i + 1 < buf.length; i++) {
    if (buf[i] !== req.unit) continue;
    const fn = buf[i + 1]!;
    if (fn === (req.fn | 0x80)) {
      if (i + 5 > buf.length) continue;
      if (hasValidCrc(buf, i, 5)) return { kind: 'exception', code: buf[i + 2]!, start: i, end: i + 5 };
      crcSeen = true;
      continue;
    }
    if (fn !== req.fn) continue;
    if (req.fn <= 4 && i + 2 < buf.length && buf[i + 2] !== normalLength - 5) continue;
    if (i + normalLength > buf.length) continue;
    if (!hasValidCrc(buf, i, normalLength)) {
      crcSeen = true;
      continue;
    }
    return { kind: 'response', response: decodeResponseBody(req, buf, i), start: i, end: i + normalLength };
  }
  return { kind: 'none', crcSeen };
}

function decodeResponseBody(req: ModbusRequest, buf: Uint8Array, start: number): ModbusResponse {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (req.fn) {
    case 1:
    case 2:
      return { fn: req.fn, bits: unpackBits(buf, start + 3, req.count) };
    case 3:
    case 4: {
      const registers: number[] = [];
      for (let k = 0; k < req.count; k++) registers.push(view.readUInt16BE(start + 3 + 2 * k));
      return { fn: req.fn, registers };
    }
    default:
      return { fn: req.fn, address: view.readUInt16BE(start + 2), quantityOrValue: view.readUInt16BE(start + 4) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Slave side (used by the device simulator)

export type ExtractRequestResult =
  | { kind: 'request'; request: ModbusRequest; end: number }
  /** A complete frame for an unsupported function code; answer with exception 1. */
  | { kind: 'unsupported'; unit: number; fn: number; end: number }
  | { kind: 'need-more' }
  /** The bytes at the head cannot start a valid frame: drop `skip` bytes and try again. */
  | { kind: 'invalid'; skip: number; why: 'crc' | 'length' };

/** Frames one request from the head of `buf` (a slave sees only requests, so framing starts at byte 0). */
export function extractRequest(buf: Uint8Array): ExtractRequestResult {
  if (buf.length < 2) return { kind: 'need-more' };
  const fn = buf[1]!;
  let length: number;
  if (fn === 15 || fn === 16) {
    if (buf.length < 7) return { kind: 'need-more' };
    length = 9 + buf[6]!;
  } else {
    length = 8;
  }
  if (buf.length < length) return { kind: 'need-more' };
  if (!hasValidCrc(buf, 0, length)) return { kind: 'invalid', skip: 1, why: 'crc' };
  const view = Buffer.from(buf.buffer, buf.byteOffset, length);
  const unit = buf[0]!;
  const address = view.readUInt16BE(2);
  const word = view.readUInt16BE(4);
  switch (fn) {
    case 1:
    case 2:
    case 3:
    case 4:
      return { kind: 'request', request: { unit, fn, address, count: word }, end: length };
    case 5:
      return { kind: 'request', request: { unit, fn, address, value: word === 0xff00 }, end: length };
    case 6:
      return { kind: 'request', request: { unit, fn, address, value: word }, end: length };
    case 15: {
      if (buf[6] !== Math.ceil(word / 8)) return { kind: 'invalid', skip: length, why: 'length' };
      return { kind: 'request', request: { unit, fn, address, values: unpackBits(buf, 7, word) }, end: length };
    }
    case 16: {
      if (buf[6] !== word * 2) return { kind: 'invalid', skip: length, why: 'length' };
      const values: number[] = [];
      for (let k = 0; k < word; k++) values.push(view.readUInt16BE(7 + 2 * k));
      return { kind: 'request', request: { unit, fn, address, values }, end: length };
    }
    default:
      return { kind: 'unsupported', unit, fn, end: length };
  }
}

export function encodeResponse(req: ModbusRequest, res: ModbusResponse): Buffer {
  if (res.fn === 1 || res.fn === 2) {
    const bits = packBits(res.bits);
    return withCrc(Buffer.concat([Buffer.from([req.unit, res.fn, bits.length]), bits]));
  }
  if (res.fn === 3 || res.fn === 4) {
    const body = Buffer.alloc(3 + res.registers.length * 2);
    body.writeUInt8(req.unit, 0);
    body.writeUInt8(res.fn, 1);
    body.writeUInt8(res.registers.length * 2, 2);
    res.registers.forEach((v, i) => body.writeUInt16BE(v & 0xffff, 3 + 2 * i));
    return withCrc(body);
  }
  if (!('address' in res)) throw new Error(`response of function ${res.fn} cannot be encoded`);
  const body = Buffer.alloc(6);
  body.writeUInt8(req.unit, 0);
  body.writeUInt8(res.fn, 1);
  body.writeUInt16BE(res.address, 2);
  body.writeUInt16BE(res.quantityOrValue & 0xffff, 4);
  return withCrc(body);
}

export function encodeException(unit: number, fn: number, code: number): Buffer {
  return withCrc(Buffer.from([unit, (fn | 0x80) & 0xff, code]));
}

// ---------------------------------------------------------------------------------------------------------------
// Wire timing

export interface LineSettings {
  baud: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

/** Bits on the wire per character: start + data + parity + stop. */
export function bitsPerChar(line: LineSettings): number {
  return 1 + line.dataBits + (line.parity === 'none' ? 0 : 1) + line.stopBits;
}

export function charTimeMs(line: LineSettings): number {
  return (bitsPerChar(line) * 1000) / line.baud;
}

/** The inter-frame silence t3.5: 3.5 character times, fixed at 1.75 ms above 19200 baud (Modbus over serial line §2.5.1.1). */
export function t35Ms(line: LineSettings): number {
  return line.baud > 19200 ? 1.75 : 3.5 * charTimeMs(line);
}
