import { ProtobufError, ProtobufWriter, WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH, WIRE_VARINT, readFields, type ProtobufField } from './protobuf.js';

/**
 * The Sparkplug B payload (org.eclipse.tahu.protobuf.Payload) as far as this gateway writes and reads it:
 * Payload {timestamp=1, metrics=2, seq=3, uuid=4, body=5}; Metric {name=1, alias=2, timestamp=3, datatype=4,
 * is_historical=5, is_transient=6, is_null=7, metadata=8, properties=9, int_value=10, long_value=11,
 * float_value=12, double_value=13, boolean_value=14, string_value=15, bytes_value=16, dataset=17, template=18};
 * PropertySet {keys=1, values=2}; PropertyValue {type=1, is_null=2, int_value=3, long_value=4, float_value=5,
 * double_value=6, boolean_value=7, string_value=8}. Datasets, templates and metadata are never written; on
 * reading they are skipped.
 */


/**
 * A timestamp as the wire carries it: whole ms since the epoch, never negative. Corrected wall times of readings
 * taken before the clock was set may carry a fraction of a millisecond; a varint cannot.
 */
function wireTime(ms: number): number {
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : 0;
}

export const DataType = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
} as const;

export type DataTypeName = keyof typeof DataType;
export type DataTypeCode = (typeof DataType)[DataTypeName];

const NAME_OF = new Map<number, DataTypeName>(Object.entries(DataType).map(([name, code]) => [code, name as DataTypeName]));

export function dataTypeName(code: number): string {
  return NAME_OF.get(code) ?? `unknown (${code})`;
}

export type ScalarValue = number | bigint | boolean | string;

/** A typed value: a property value, or the value of a metric. Null values carry their type only. */
export interface TypedValue {
  type: DataTypeCode;
  value: ScalarValue | null;
}

export type PropertySet = ReadonlyArray<readonly [key: string, value: TypedValue]>;

export interface Metric {
  name?: string;
  alias?: number;
  timestamp?: number;
  /** The metric's type; written on the wire only where `encodePayload` is asked to (births, deaths). */
  datatype: DataTypeCode;
  isHistorical?: boolean;
  isTransient?: boolean;
  /** null: the metric has no value (is_null=true). */
  value: ScalarValue | null;
  properties?: PropertySet;
}

export interface Payload {
  timestamp?: number;
  metrics: readonly Metric[];
  seq?: number;
}

export interface EncodeOptions {
  /** Write each metric's datatype: required in NBIRTH/DBIRTH (and NDEATH), left out of NDATA/DDATA. */
  datatypes: boolean;
}


/** Integers of 8–32 bits go in the uint32 field (negative ones as two's complement), 64-bit ones in the uint64 field. */
function writeMetricValue(w: ProtobufWriter, type: DataTypeCode, value: ScalarValue): void {
  switch (type) {
    case DataType.Int8:
    case DataType.Int16:
    case DataType.Int32:
    case DataType.UInt8:
    case DataType.UInt16:
    case DataType.UInt32:
      w.varint(10, Number(value) >>> 0);
      return;
    case DataType.Int64:
    case DataType.UInt64:
    case DataType.DateTime:
      w.varint(11, BigInt.asUintN(64, BigInt(value)));
      return;
    case DataType.Float:
      w.float(12, Number(value));
      return;
    case DataType.Double:
      w.double(13, Number(value));
      return;
    case DataType.Boolean:
      w.bool(14, Boolean(value));
      return;
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      w.string(15, String(value));
      return;
    default:
      throw new ProtobufError(`cannot encode a ${dataTypeName(type)} metric value`);
  }
}

function writePropertyValue(value: TypedValue): Buffer {
  const w = new ProtobufWriter().varint(1, value.type);
  if (value.value === null) return w.bool(2, true).finish();
  switch (value.type) {
    case DataType.Int8:
    case DataType.Int16:
    case DataType.Int32:
    case DataType.UInt8:
    case DataType.UInt16:
    case DataType.UInt32:
      w.varint(3, Number(value.value) >>> 0);
      break;
    case DataType.Int64:
    case DataType.UInt64:
    case DataType.DateTime:
      w.varint(4, BigInt.asUintN(64, BigInt(value.value)));
      break;
    case DataType.Float:
      w.float(5, Number(value.value));
      break;
    case DataType.Double:
      w.double(6, Number(value.value));
      break;
    case DataType.Boolean:
      w.bool(7, Boolean(value.value));
      break;
    case DataType.String:
    case DataType.Text:
      w.string(8, String(value.value));
      break;
    default:
      throw new ProtobufError(`cannot encode a ${dataTypeName(value.type)} property`);
  }
  return w.finish();
}

function writePropertySet(set: PropertySet): Buffer {
  const w = new ProtobufWriter();
  for (const [key] of set) w.string(1, key);
  for (const [, value] of set) w.bytes(2, writePropertyValue(value));
  return w.finish();
}

export function encodeMetric(metric: Metric, options: EncodeOptions): Buffer {
  const w = new ProtobufWriter();
  if (metric.name !== undefined) w.string(1, metric.name);
  if (metric.alias !== undefined) w.varint(2, metric.alias);
  if (metric.timestamp !== undefined) w.varint(3, wireTime(metric.timestamp));
  if (options.datatypes) w.varint(4, metric.datatype);
  if (metric.isHistorical) w.bool(5, true);
  if (metric.isTransient) w.bool(6, true);
  if (metric.value === null) w.bool(7, true);
  if (metric.properties && metric.properties.length > 0) w.bytes(9, writePropertySet(metric.properties));
  if (metric.value !== null) writeMetricValue(w, metric.datatype, metric.value);
  return w.finish();
}

/** The payload without seq: the profile appends seq right before the wire (see `withSeq`). */
export function encodePayload(payload: Payload, options: EncodeOptions): Buffer {
  const w = new ProtobufWriter();
  if (payload.timestamp !== undefined) w.varint(1, wireTime(payload.timestamp));
  for (const metric of payload.metrics) w.bytes(2, encodeMetric(metric, options));
  if (payload.seq !== undefined) w.varint(3, payload.seq);
  return w.finish();
}

/** Appends the seq field (3) to an encoded payload: protobuf readers accept fields in any order. */
export function withSeq(encoded: Buffer, seq: number): Buffer {
  return Buffer.concat([encoded, new ProtobufWriter().varint(3, seq).finish()]);
}

// ---------------------------------------------------------------- reading

/** Which value field a decoded metric carried (a command's type is judged by it when the datatype is left out). */
export type ValueField = 'int' | 'long' | 'float' | 'double' | 'boolean' | 'string' | 'bytes' | 'dataset' | 'template' | 'extension';

export interface DecodedMetric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  isHistorical?: boolean;
  isNull?: boolean;
  valueField?: ValueField;
  value?: ScalarValue | Buffer;
  properties?: Array<[string, TypedValue | { type: number; value: unknown }]>;
}

export interface DecodedPayload {
  timestamp?: number;
  seq?: number;
  metrics: DecodedMetric[];
}

function asNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtobufError(`${what} too large`);
  return Number(value);
}

function expectVarint(f: ProtobufField, what: string): bigint {
  if (f.wireType !== WIRE_VARINT) throw new ProtobufError(`${what}: wrong wire type`);
  return f.value;
}

function expectBytes(f: ProtobufField, what: string, wire: number = WIRE_LENGTH): Buffer {
  if (f.wireType !== wire || typeof f.value === 'bigint') throw new ProtobufError(`${what}: wrong wire type`);
  return f.value;
}

function decodeUtf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ProtobufError(`${what}: not UTF-8`);
  }
}

function decodePropertyValue(bytes: Buffer): TypedValue | { type: number; value: unknown } {
  let type = 0;
  let value: unknown = null;
  for (const f of readFields(bytes)) {
    if (f.field === 1) type = asNumber(expectVarint(f, 'property type'), 'property type');
    else if (f.field === 2) value = expectVarint(f, 'property is_null') !== 0n ? null : value;
    else if (f.field === 3) value = asNumber(expectVarint(f, 'property int_value'), 'property int_value');
    else if (f.field === 4) value = expectVarint(f, 'property long_value');
    else if (f.field === 5) value = expectBytes(f, 'property float_value', WIRE_FIXED32).readFloatLE(0);
    else if (f.field === 6) value = expectBytes(f, 'property double_value', WIRE_FIXED64).readDoubleLE(0);
    else if (f.field === 7) value = expectVarint(f, 'property boolean_value') !== 0n;
    else if (f.field === 8) value = decodeUtf8(expectBytes(f, 'property string_value'), 'property string_value');
  }
  return { type, value };
}

function decodeMetric(bytes: Buffer): DecodedMetric {
  const metric: DecodedMetric = {};
  const keys: string[] = [];
  const values: Array<TypedValue | { type: number; value: unknown }> = [];
  let hasProperties = false;
  for (const f of readFields(bytes)) {
    switch (f.field) {
      case 1:
        metric.name = decodeUtf8(expectBytes(f, 'metric name'), 'metric name');
        break;
      case 2:
        metric.alias = asNumber(expectVarint(f, 'alias'), 'alias');
        break;
      case 3:
        metric.timestamp = asNumber(expectVarint(f, 'metric timestamp'), 'metric timestamp');
        break;
      case 4:
        metric.datatype = asNumber(expectVarint(f, 'datatype'), 'datatype');
        break;
      case 5:
        metric.isHistorical = expectVarint(f, 'is_historical') !== 0n;
        break;
      case 7:
        metric.isNull = expectVarint(f, 'is_null') !== 0n;
        break;
      case 9: {
        hasProperties = true;
        for (const p of readFields(expectBytes(f, 'properties'))) {
          if (p.field === 1) keys.push(decodeUtf8(expectBytes(p, 'property key'), 'property key'));
          else if (p.field === 2) values.push(decodePropertyValue(expectBytes(p, 'property value')));
        }
        break;
      }
      case 10:
        metric.valueField = 'int';
        metric.value = asNumber(expectVarint(f, 'int_value'), 'int_value');
        break;
      case 11:
        metric.valueField = 'long';
        metric.value = expectVarint(f, 'long_value');
        break;
      case 12:
        metric.valueField = 'float';
        metric.value = expectBytes(f, 'float_value', WIRE_FIXED32).readFloatLE(0);
        break;
      case 13:
        metric.valueField = 'double';
        metric.value = expectBytes(f, 'double_value', WIRE_FIXED64).readDoubleLE(0);
        break;
      case 14:
        metric.valueField = 'boolean';
        metric.value = expectVarint(f, 'boolean_value') !== 0n;
        break;
      case 15:
        metric.valueField = 'string';
        metric.value = decodeUtf8(expectBytes(f, 'string_value'), 'string_value');
        break;
      case 16:
        metric.valueField = 'bytes';
        metric.value = expectBytes(f, 'bytes_value');
        break;
      case 17:
        metric.valueField = 'dataset';
        break;
      case 18:
        metric.valueField = 'template';
        break;
      case 19:
        metric.valueField = 'extension';
        break;
      default:
        break; // is_transient, metadata and anything newer: not needed here
    }
  }
  if (hasProperties) {
    if (keys.length !== values.length) throw new ProtobufError('property set with different numbers of keys and values');
    metric.properties = keys.map((key, i) => [key, values[i] ?? { type: 0, value: null }]);
  }
  return metric;
}

/** Decodes a Sparkplug B payload; throws ProtobufError on bytes that are not one. */
export function decodePayload(bytes: Buffer): DecodedPayload {
  const payload: DecodedPayload = { metrics: [] };
  for (const f of readFields(bytes)) {
    if (f.field === 1) payload.timestamp = asNumber(expectVarint(f, 'timestamp'), 'timestamp');
    else if (f.field === 2) payload.metrics.push(decodeMetric(expectBytes(f, 'metric')));
    else if (f.field === 3) payload.seq = asNumber(expectVarint(f, 'seq'), 'seq');
  }
  return payload;
}

export { ProtobufError };
