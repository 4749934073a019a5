/**
 * The few protocol-buffer wire primitives the Sparkplug payload needs: varints, fixed 32/64-bit values and
 * length-delimited fields on the writing side, and a tolerant field reader that skips what it does not know and
 * throws a ProtobufError on anything truncated or malformed (never reads past the buffer).
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufError extends Error {}

const TWO_POW_64 = 1n << 64n;

/** Appends protobuf fields to a growing list of chunks; `finish()` joins them. */
export class ProtobufWriter {
  private readonly chunks: Buffer[] = [];

  private tag(field: number, wireType: number): void {
    this.rawVarint((field << 3) | wireType);
  }

  /** A non-negative integer up to 2^53 (or a bigint up to 2^64 − 1) as a base-128 varint. */
  rawVarint(value: number | bigint): void {
    const bytes: number[] = [];
    if (typeof value === 'bigint') {
      let v = value < 0n ? value + TWO_POW_64 : value;
      while (v >= 0x80n) {
        bytes.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      bytes.push(Number(v));
    } else {
      if (!Number.isSafeInteger(value) || value < 0) throw new ProtobufError(`varint out of range: ${value}`);
      let v = value;
      while (v >= 0x80) {
        bytes.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      bytes.push(v);
    }
    this.chunks.push(Buffer.from(bytes));
  }

  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.chunks.push(b);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.chunks.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH);
    this.rawVarint(value.length);
    this.chunks.push(Buffer.from(value));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** One field as read: varints come as bigint (full 64-bit range), fixed values as their raw bytes. */
export type ProtobufField =
  | { field: number; wireType: typeof WIRE_VARINT; value: bigint }
  | { field: number; wireType: typeof WIRE_FIXED64 | typeof WIRE_FIXED32 | typeof WIRE_LENGTH; value: Buffer };

/** Reads every top-level field of a message, in order. */
export function readFields(buffer: Buffer): ProtobufField[] {
  const fields: ProtobufField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = buffer[at];
      if (byte === undefined) throw new ProtobufError('truncated varint');
      at++;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result & (TWO_POW_64 - 1n);
      shift += 7n;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  };
  const take = (length: number): Buffer => {
    if (at + length > buffer.length) throw new ProtobufError('truncated field');
    const slice = buffer.subarray(at, at + length);
    at += length;
    return slice;
  };
  while (at < buffer.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new ProtobufError('field number 0');
    switch (wireType) {
      case WIRE_VARINT:
        fields.push({ field, wireType, value: varint() });
        break;
      case WIRE_FIXED64:
        fields.push({ field, wireType, value: take(8) });
        break;
      case WIRE_LENGTH: {
        const length = varint();
        if (length > BigInt(buffer.length)) throw new ProtobufError('length beyond the end of the message');
        fields.push({ field, wireType, value: take(Number(length)) });
        break;
      }
      case WIRE_FIXED32:
        fields.push({ field, wireType, value: take(4) });
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType} (field ${field})`);
    }
  }
  return fields;
}
