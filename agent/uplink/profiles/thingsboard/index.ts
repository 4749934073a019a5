import type { ThingsboardOptions } from '../../../../config/schema/index.js';
import type { QualityReason } from '../../../../drivers/reading.js';
import type { EventDelivery, TelemetryDelivery } from '../../payloads.js';
import type { BirthChannel, BirthInfo, OutgoingMessage, PlatformProfile, ProfileContext, StateStamp } from '../../profile.js';
import { RPC_TOPIC, RpcIds, decodeRpc, encodeRpcReply } from './rpc.js';

export { RPC_TOPIC, THINGSBOARD_RPC_LIFETIME_MS } from './rpc.js';

/** Operator actions ThingsBoard RPC maps to by default (force/release/silence/reset only when a site allows them). */
export const THINGSBOARD_ACTIONS: readonly string[] = ['acknowledge', 'set-baseline'];

const TOPICS = {
  connect: 'v1/gateway/connect',
  disconnect: 'v1/gateway/disconnect',
  telemetry: 'v1/gateway/telemetry',
  attributes: 'v1/gateway/attributes',
  ownTelemetry: 'v1/devices/me/telemetry',
  ownAttributes: 'v1/devices/me/attributes',
} as const;

/** Reasons that mean the device did not answer at all (rather than answered with a doubtful value). */
const SILENT: ReadonlySet<QualityReason> = new Set(['timeout', 'port-down', 'breaker-open']);

type Value = string | number;

interface Entry {
  ts: number;
  values: Record<string, Value>;
}

function json(topic: string, body: unknown): OutgoingMessage {
  return { topic, payload: Buffer.from(JSON.stringify(body)), retain: false, contentType: 'application/json' };
}

/**
 * ThingsBoard's gateway MQTT API (docs/platforms/thingsboard.md): every field device is a ThingsBoard device
 * behind the gateway, connected at birth and disconnected on stop (or while it does not answer), with its
 * channels as telemetry keys, units and indicator codes as client attributes, and RPC mapped to operator
 * commands.
 */
export function createThingsboardProfile(ctx: ProfileContext, options: ThingsboardOptions, channels: readonly BirthChannel[]): PlatformProfile {
  const nameOf = (deviceId: string): string => options.devices[deviceId]?.name ?? deviceId;
  const typeOf = (deviceId: string): string => options.devices[deviceId]?.type ?? 'default';
  const deviceIds = [...new Set(channels.flatMap((c) => (c.deviceId === undefined ? [] : [c.deviceId])))];
  const channelsOfDevice = new Map<string, string[]>();
  for (const c of channels) if (c.deviceId !== undefined) channelsOfDevice.set(c.deviceId, [...(channelsOfDevice.get(c.deviceId) ?? []), c.id]);
  const channelsOfName = new Map([...channelsOfDevice].map(([deviceId, ids]) => [nameOf(deviceId), ids] as const));
  const deviceOfChannel = new Map(channels.flatMap((c) => (c.deviceId === undefined ? [] : [[c.id, c.deviceId] as const])));
  const indicatorOf = new Map(channels.flatMap((c) => (c.indicator === undefined ? [] : [[c.id, c.indicator] as const])));
  const rpcIds = new RpcIds();

  /** Live state per channel: did its device answer the last time? Devices announced as disconnected. */
  const silentChannels = new Set<string>();
  const disconnected = new Set<string>();

  const connectMessage = (deviceId: string): OutgoingMessage => json(TOPICS.connect, { device: nameOf(deviceId), type: typeOf(deviceId) });
  const disconnectMessage = (deviceId: string): OutgoingMessage => json(TOPICS.disconnect, { device: nameOf(deviceId) });

  const readingValues = (d: TelemetryDelivery): Record<string, Value> => {
    const r = d.reading;
    const values: Record<string, Value> = {};
    // A bad reading has no value, and never gets one here (ThingsBoard would refuse a null anyway).
    if (r.quality !== 'bad' && r.value !== null) values[r.channelId] = r.value;
    if (options.qualityKeys) values[`${r.channelId}_quality`] = r.quality === 'good' ? 'good' : `${r.quality}:${r.reason ?? 'unknown'}`;
    return values;
  };

  /** Connect/disconnect messages for devices whose answering changed with this live batch. */
  const presenceChanges = (batch: readonly TelemetryDelivery[]): { before: OutgoingMessage[]; after: OutgoingMessage[] } => {
    const before: OutgoingMessage[] = [];
    const after: OutgoingMessage[] = [];
    if (!options.disconnectSilent || batch[0]?.historical !== false) return { before, after };
    const touched = new Set<string>();
    for (const d of batch) {
      const r = d.reading;
      if (r.quality === 'bad' && r.reason !== undefined && SILENT.has(r.reason)) silentChannels.add(r.channelId);
      else silentChannels.delete(r.channelId);
      touched.add(deviceOfChannel.get(r.channelId) ?? r.deviceId);
    }
    for (const deviceId of touched) {
      const own = channelsOfDevice.get(deviceId) ?? [];
      const silent = own.length > 0 && own.every((id) => silentChannels.has(id));
      if (silent && !disconnected.has(deviceId)) {
        disconnected.add(deviceId);
        after.push(disconnectMessage(deviceId));
      } else if (!silent && disconnected.has(deviceId)) {
        disconnected.delete(deviceId);
        before.push(connectMessage(deviceId));
      }
    }
    return { before, after };
  };

  const deviceTelemetry = (entries: ReadonlyArray<{ device: string; entry: Entry }>): OutgoingMessage[] => {
    if (entries.length === 0) return [];
    const body: Record<string, Entry[]> = {};
    for (const { device, entry } of entries) (body[device] ??= []).push(entry);
    return [json(TOPICS.telemetry, body)];
  };

  const gatewayAttributes = (birth: BirthInfo): Record<string, Value | boolean> => ({
    online: true,
    site: ctx.siteId,
    gateway: ctx.gatewayId,
    agentVersion: birth.version,
    configHash: birth.configHash,
  });

  return {
    name: 'thingsboard',
    commandSubscriptions: [RPC_TOPIC],

    encodeTelemetry(batch: readonly TelemetryDelivery[]) {
      const { before, after } = presenceChanges(batch);
      const entries: Array<{ device: string; entry: Entry }> = [];
      // Readings of one device at one ts share an entry, unless that entry has the key already.
      const open = new Map<string, Entry>();
      for (const d of batch) {
        const values = readingValues(d);
        if (Object.keys(values).length === 0) continue;
        const device = nameOf(deviceOfChannel.get(d.reading.channelId) ?? d.reading.deviceId);
        const key = `${device}\u0000${d.ts}`;
        const entry = open.get(key);
        if (entry && !Object.keys(values).some((k) => k in entry.values)) {
          Object.assign(entry.values, values);
          continue;
        }
        const fresh: Entry = { ts: d.ts, values };
        open.set(key, fresh);
        entries.push({ device, entry: fresh });
      }
      return [...before, ...deviceTelemetry(entries), ...after];
    },

    encodeEvent(d: EventDelivery) {
      const e = d.event;
      const values: Record<string, Value> = { event: e.type, event_rule: e.rule };
      if (e.channelId !== undefined) values.event_channel = e.channelId;
      const indicator = e.channelId === undefined ? undefined : indicatorOf.get(e.channelId);
      if (indicator !== undefined) values.event_indicator = indicator;
      if (e.outputId !== undefined) values.event_output = e.outputId;
      if (e.level !== undefined) values.event_level = e.level;
      if (e.grade !== undefined && e.grade !== null) values.event_grade = e.grade;
      if (e.value !== null) values.event_value = e.value;
      if (e.unit !== undefined) values.event_unit = e.unit;
      if (e.setpoint !== undefined) values.event_setpoint = e.setpoint;
      if (e.cause !== undefined) values.event_cause = e.cause;
      if (e.by !== undefined) values.event_by = e.by;
      const entry: Entry = { ts: d.ts, values };
      const deviceId = e.channelId === undefined ? undefined : deviceOfChannel.get(e.channelId);
      // An event about a channel is its device's; the rest (outputs, silence) the gateway's own.
      if (deviceId === undefined) return json(TOPICS.ownTelemetry, entry);
      return deviceTelemetry([{ device: nameOf(deviceId), entry }]);
    },

    encodeBirth(birth: BirthInfo) {
      // Every device is announced connected again on a (re)birth: forget who was silent.
      silentChannels.clear();
      disconnected.clear();
      const attributes: Record<string, Record<string, Value>> = {};
      for (const deviceId of deviceIds) {
        const own: Record<string, Value> = { site: ctx.siteId, gateway: ctx.gatewayId, vigilDevice: deviceId, agentVersion: birth.version };
        for (const c of channels) {
          if (c.deviceId !== deviceId) continue;
          if (c.unit !== undefined) own[`${c.id}_unit`] = c.unit;
          if (c.indicator !== undefined) own[`${c.id}_indicator`] = c.indicator;
          if (c.name !== undefined) own[`${c.id}_name`] = c.name;
        }
        attributes[nameOf(deviceId)] = own;
      }
      return [
        ...deviceIds.map(connectMessage),
        ...(deviceIds.length === 0 ? [] : [json(TOPICS.attributes, attributes)]),
        json(TOPICS.ownAttributes, gatewayAttributes(birth)),
      ];
    },

    encodeWill() {
      // ThingsBoard does not publish wills (it marks the gateway inactive by itself); a broker in front of it
      // that does would deliver this as a client attribute of the gateway.
      return json(TOPICS.ownAttributes, { online: false });
    },

    encodeShutdown(stamp: StateStamp) {
      void stamp;
      return [...deviceIds.map(disconnectMessage), json(TOPICS.ownAttributes, { online: false })];
    },

    decodeCommand(topic, payload) {
      return decodeRpc(topic, payload, { channelsOf: channelsOfName }, rpcIds, ctx.host.now().ts);
    },

    encodeCommandResult(outcome) {
      return encodeRpcReply(outcome);
    },
  };
}
