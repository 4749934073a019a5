import { createRequire } from 'node:module';

/**
 * The independent decoder for the Sparkplug tests: Eclipse Tahu's sparkplug-payload (protobufjs generated from
 * the official sparkplug_b.proto), loaded as the CommonJS package it is. Its Long values are turned into numbers
 * so expectations read plainly.
 */
export interface TahuMetric {
  name?: string | null;
  alias?: number;
  timestamp?: number;
  type: string;
  value: unknown;
  isNull?: boolean | null;
  isHistorical?: boolean | null;
  properties?: Record<string, { type: string; value: unknown }>;
}

export interface TahuPayload {
  timestamp?: number;
  seq?: number;
  metrics: TahuMetric[];
}

interface TahuModule {
  encodePayload(payload: unknown): Uint8Array;
  decodePayload(bytes: Uint8Array): unknown;
}

const require = createRequire(import.meta.url);
const loaded = (require('sparkplug-payload') as { get(namespace: string): TahuModule | null }).get('spBv1.0');
if (!loaded) throw new Error('sparkplug-payload has no spBv1.0 codec');
export const tahu: TahuModule = loaded;

function plain(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object' && 'low' in value && 'high' in value && typeof (value as { toNumber?: unknown }).toNumber === 'function') {
    return (value as { toNumber(): number }).toNumber();
  }
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Decodes with Tahu; Longs become numbers. */
export function tahuDecode(bytes: Uint8Array): TahuPayload {
  const decoded = plain(tahu.decodePayload(bytes)) as TahuPayload;
  return { ...decoded, metrics: decoded.metrics ?? [] };
}

/** Encodes a command the way a Sparkplug host would (Tahu's encoder). */
export function tahuEncode(payload: { timestamp?: number; seq?: number; metrics: Array<{ name?: string; alias?: number; type: string; value: unknown; timestamp?: number }> }): Buffer {
  return Buffer.from(tahu.encodePayload(payload));
}

/** A metric as the generated protobuf code reads it, before any datatype is applied (data messages omit it). */
export interface RawMetric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  isHistorical?: boolean;
  isNull?: boolean;
  intValue?: number;
  longValue?: number;
  floatValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  stringValue?: string;
  properties?: { keys?: string[]; values?: Array<{ type?: number; intValue?: number; stringValue?: string }> };
}

export interface RawPayload {
  timestamp?: number;
  seq?: number;
  metrics?: RawMetric[];
}

interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: { longs: NumberConstructor }): unknown;
}
const proto = (require('sparkplug-payload/lib/sparkplugPayloadProto') as { org: { eclipse: { tahu: { protobuf: { Payload: ProtoType } } } } }).org.eclipse.tahu
  .protobuf.Payload;

/** Decodes with the protobuf code Tahu generated from sparkplug_b.proto: every field as sent. */
export function tahuRaw(bytes: Uint8Array): RawPayload {
  return proto.toObject(proto.decode(bytes), { longs: Number }) as RawPayload;
}
