import { createRequire } from 'node:module';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { CommandHandler, type AlarmCommands, type OutputCommands } from '../../agent/commands/index.js';
import { Uplink, type BirthChannel, type CommandOptions, type LatestValue, type OutboxReader, type TelemetryPayload, type UplinkOptions } from '../../agent/uplink/index.js';
import { createSparkplugProfile, SPARKPLUG_ACTIONS } from '../../agent/uplink/profiles/sparkplug/index.js';
import type { SparkplugOptions } from '../../config/schema/index.js';
import { openTempOutbox, testClock } from '../support/platform-profile.js';

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
    return (value as unknown as { toNumber(): number }).toNumber();
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

// ---------------------------------------------------------------- a Sparkplug host on the broker

/** One message as the host saw it: raw fields always, Tahu's full decoding for births and deaths (they carry datatypes). */
export interface HostMessage {
  topic: string;
  type: string;
  deviceId: string | undefined;
  raw: RawPayload;
  decoded: TahuPayload | undefined;
  retain: boolean;
  qos: number;
}

/** A data point as the host resolves it through the alias table of the births. */
export interface HostValue {
  type: string;
  deviceId: string | undefined;
  name: string;
  value: unknown;
  timestamp: number | undefined;
  historical: boolean;
  quality: number | undefined;
}

const SEQUENCED = new Set(['NBIRTH', 'NDATA', 'DBIRTH', 'DDATA', 'DDEATH']);

function rawValue(metric: RawMetric, datatype: number | undefined): unknown {
  if (metric.isNull) return null;
  switch (datatype) {
    case 3:
      return metric.intValue;
    case 4:
      return metric.longValue;
    case 10:
      return metric.doubleValue;
    case 11:
      return metric.booleanValue;
    case 12:
      return metric.stringValue;
    default:
      return undefined;
  }
}

/**
 * The host's side: a plain mqtt.js client subscribed to the whole spBv1.0 namespace, decoding with Tahu's
 * generated protobuf code, keeping the alias → (name, datatype) table from each birth as a host must.
 */
export class SparkplugHost {
  readonly messages: HostMessage[] = [];
  readonly values: HostValue[] = [];
  readonly undecodable: string[] = [];
  private readonly aliases = new Map<number, { name: string; datatype: number | undefined }>();

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const parts = topic.split('/');
      const type = parts[1] === 'STATE' ? 'STATE' : (parts[2] ?? '');
      if (type === 'STATE' || type === 'NCMD' || type === 'DCMD') return;
      try {
        const raw = tahuRaw(payload);
        const birthOrDeath = type.endsWith('BIRTH') || type.endsWith('DEATH');
        const message: HostMessage = { topic, type, deviceId: parts[4], raw, decoded: birthOrDeath ? tahuDecode(payload) : undefined, retain: packet.retain, qos: packet.qos };
        this.messages.push(message);
        this.absorb(message);
      } catch (error) {
        this.undecodable.push(`${topic}: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  static async connect(url: string, protocolVersion: 4 | 5): Promise<SparkplugHost> {
    const client = connect(url, { clientId: `host-${Math.random().toString(16).slice(2)}`, protocolVersion, reconnectPeriod: 0, clean: true });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync('spBv1.0/#', { qos: 1 });
    return new SparkplugHost(client);
  }

  private absorb(message: HostMessage): void {
    const metrics = message.raw.metrics ?? [];
    if (message.type === 'NBIRTH' || message.type === 'DBIRTH') {
      for (const m of metrics) if (m.alias !== undefined && m.name) this.aliases.set(m.alias, { name: m.name, datatype: m.datatype });
    }
    if (message.type === 'NBIRTH' || message.type === 'DBIRTH' || message.type === 'NDATA' || message.type === 'DDATA') {
      for (const m of metrics) {
        const known = m.alias === undefined ? undefined : this.aliases.get(m.alias);
        const quality = m.properties?.keys?.indexOf('Quality') ?? -1;
        this.values.push({
          type: message.type,
          deviceId: message.deviceId,
          name: m.name ?? known?.name ?? `?alias ${m.alias}`,
          value: rawValue(m, m.datatype ?? known?.datatype),
          timestamp: m.timestamp,
          historical: m.isHistorical === true,
          quality: quality >= 0 ? m.properties?.values?.[quality]?.intValue : undefined,
        });
      }
    }
  }

  of(type: string, deviceId?: string): HostMessage[] {
    return this.messages.filter((m) => m.type === type && (deviceId === undefined || m.deviceId === deviceId));
  }

  /** Data points (DDATA/NDATA) of one metric, in arrival order. */
  data(name: string): HostValue[] {
    return this.values.filter((v) => (v.type === 'DDATA' || v.type === 'NDATA') && v.name === name);
  }

  /** Where seq does not follow the rule: NBIRTH 0, then +1 mod 256 across NDATA/DBIRTH/DDATA/DDEATH. */
  seqBreaks(): string[] {
    const breaks: string[] = [];
    let previous: number | undefined;
    this.messages.forEach((m, i) => {
      if (!SEQUENCED.has(m.type)) {
        if (m.raw.seq !== undefined) breaks.push(`#${i} ${m.type} carries seq ${m.raw.seq}`);
        return;
      }
      const seq = m.raw.seq;
      if (seq === undefined) breaks.push(`#${i} ${m.type} without seq`);
      else if (m.type === 'NBIRTH' ? seq !== 0 : previous !== undefined && seq !== (previous + 1) % 256) breaks.push(`#${i} ${m.type} seq ${seq} after ${previous}`);
      previous = seq;
    });
    return breaks;
  }

  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
    if (this.undecodable.length > 0) throw new Error(`undecodable Sparkplug messages:\n${this.undecodable.join('\n')}`);
  }
}

// ---------------------------------------------------------------- the gateway side

export const GROUP = 'city';
export const NODE = 'gw-test';

export const CHANNELS: readonly BirthChannel[] = [
  { id: 'tank1.h2s', deviceId: 'tank1', indicator: 'H2S', unit: 'ppm', name: 'Tank 1 hydrogen sulphide' },
  { id: 'tank1.ch4', deviceId: 'tank1', indicator: 'CH4', unit: '%LEL' },
  { id: 'tank2.co', deviceId: 'tank2', unit: 'ppm' },
];

export function gas(channelId: string, value: number | null, extra: Partial<TelemetryPayload> = {}): TelemetryPayload {
  return {
    channelId,
    deviceId: channelId.split('.')[0] ?? channelId,
    value,
    unit: 'ppm',
    quality: value === null ? 'bad' : 'good',
    ...(value === null ? { reason: 'timeout' as const } : {}),
    ...extra,
  };
}

/** A command handler over recorded safety calls: the channels above, and output fan1. */
export function recordingHandler(): { handler: CommandHandler; calls: string[] } {
  const calls: string[] = [];
  const alarms: AlarmCommands = {
    acknowledge: (channel, by) => (calls.push(`acknowledge ${channel} by ${by}`), { acknowledged: [String(channel)] }),
    reset: (channel, by) => (calls.push(`reset ${channel} by ${by}`), { reset: [String(channel)], refused: [] }),
    setBaseline: () => ({ ok: false, error: 'not here' }),
    channel: (id) => (CHANNELS.some((c) => c.id === id) ? {} : undefined),
  };
  const outputs: OutputCommands = {
    force: (output, state, forMs, by) => {
      if (output !== 'fan1') return { ok: false, error: `no output "${output}"` };
      calls.push(`force ${output} ${state} ${forMs} by ${by}`);
      return { ok: true, until: forMs };
    },
    clearOverride: (output, by) => {
      if (output !== 'fan1') return { ok: false, error: `no output "${output}"` };
      calls.push(`release ${output} by ${by}`);
      return { ok: true };
    },
    silence: () => ({ silenced: [] }),
  };
  return { handler: new CommandHandler(alarms, outputs), calls };
}

export interface SparkplugUplinkOptions {
  url: string;
  protocolVersion: 4 | 5;
  outbox: OutboxReader;
  options?: Partial<SparkplugOptions>;
  commands?: CommandOptions;
  latest?: () => readonly LatestValue[];
  delivery?: UplinkOptions['delivery'];
}

/** The real Uplink running the Sparkplug profile for CHANNELS. */
export function sparkplugUplink(o: SparkplugUplinkOptions): Uplink {
  return new Uplink({
    gatewayId: NODE,
    siteId: 'site1',
    broker: { url: o.url, protocolVersion: o.protocolVersion, keepaliveSec: 5, connectTimeoutMs: 3000 },
    outbox: o.outbox,
    clock: testClock,
    logger: pino({ level: 'silent' }),
    birth: { version: '1.2.3', configHash: 'cafe0123', channels: CHANNELS },
    reconnect: { minDelayMs: 50, maxDelayMs: 400, stableAfterMs: 2000 },
    profile: (ctx) => createSparkplugProfile(ctx, { groupId: GROUP, qos: 1, ...o.options }, CHANNELS),
    // A site that trusts this host to move relays opts in to force/release; the profile's default is acknowledge only.
    ...(o.commands ? { commands: { allowedActions: [...SPARKPLUG_ACTIONS, 'force', 'release'], ...o.commands } } : {}),
    ...(o.latest ? { latest: o.latest } : {}),
    ...(o.delivery ? { delivery: o.delivery } : {}),
  });
}

export { openTempOutbox, testClock };
