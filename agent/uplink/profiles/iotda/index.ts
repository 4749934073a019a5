import type { IotdaOptions } from '../../../../config/schema/index.js';
import type { EventDelivery, TelemetryDelivery } from '../../payloads.js';
import type { BirthChannel, BirthInfo, OutgoingMessage, PlatformProfile, ProfileContext, StateStamp } from '../../profile.js';
import { decodeIotdaCommand, encodeIotdaResult, iotdaCommandTopics } from './commands.js';
import { iotdaConnectIdentity } from './identity.js';
import { iotdaMilliseconds, iotdaSeconds } from './time.js';

export { IOTDA_COMMAND_LIFETIME_MS, IOTDA_RESPONSE_NAME } from './commands.js';
export { iotdaConnectIdentity } from './identity.js';
export { iotdaHour, iotdaMilliseconds, iotdaSeconds } from './time.js';

/** Operator actions IoTDA commands map to by default (force/release/silence/reset only when a site allows them). */
export const IOTDA_ACTIONS: readonly string[] = ['acknowledge', 'set-baseline'];

/** IoTDA takes at most 100 sub-devices per batch report and per status event. */
const MAX_DEVICES_PER_MESSAGE = 100;

const JSON_TYPE = 'application/json';

interface ServiceEntry {
  service_id: string;
  properties: Record<string, string | number>;
  event_time: string;
}

interface Mapping {
  channelId: string;
  /** Our device id, and its IoTDA sub-device id. */
  deviceId: string;
  subDeviceId: string;
  service: string;
  property: string;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function json(topic: string, body: unknown): OutgoingMessage {
  return { topic, payload: Buffer.from(JSON.stringify(body)), retain: false, contentType: JSON_TYPE };
}

/**
 * Huawei IoTDA as a gateway with sub-devices (docs/platforms/iotda.md): each field device is an IoTDA
 * sub-device; readings go as batch property reports of the services the site maps its channels to, safety
 * events as reports of an alarm service, births and goodbyes as sub-device status events, and commands come by
 * request id and are answered by it.
 */
export function createIotdaProfile(ctx: ProfileContext, options: IotdaOptions, channels: readonly BirthChannel[]): PlatformProfile {
  const gw = options.gatewayDeviceId;
  const base = `$oc/devices/${gw}/sys`;
  const topics = {
    subDeviceReport: `${base}/gateway/sub_devices/properties/report`,
    ownReport: `${base}/properties/report`,
    eventsUp: `${base}/events/up`,
  };
  const commandTopics = iotdaCommandTopics(gw);
  const eventTime = options.eventTime === 'milliseconds' ? iotdaMilliseconds : iotdaSeconds;
  const subDeviceOf = (deviceId: string): string => options.devices[deviceId] ?? deviceId;

  const deviceOfChannel = new Map<string, string>();
  for (const channel of channels) if (channel.deviceId !== undefined) deviceOfChannel.set(channel.id, channel.deviceId);
  const indicatorOf = new Map(channels.flatMap((c) => (c.indicator === undefined ? [] : [[c.id, c.indicator] as const])));

  /** The mapping of a channel; the property name follows the reading's indicator when so configured. */
  const mappingOf = (channelId: string, deviceId: string | undefined, indicator: string | undefined): Mapping | undefined => {
    const service = options.services[channelId];
    const device = deviceId ?? deviceOfChannel.get(channelId);
    if (!service || device === undefined) return undefined;
    const named = options.propertyNames === 'indicator' ? (indicator ?? indicatorOf.get(channelId) ?? channelId) : channelId;
    return { channelId, deviceId: device, subDeviceId: subDeviceOf(device), service: service.service, property: service.property ?? named };
  };

  /** Sub-devices that carry at least one mapped channel: the ones whose status we report. */
  const subDevices = [...new Set(Object.keys(options.services).flatMap((id) => mappingOf(id, undefined, undefined)?.subDeviceId ?? []))];
  const channelsOf = new Map<string, string[]>();
  for (const channel of channels) {
    if (channel.deviceId === undefined) continue;
    const sub = subDeviceOf(channel.deviceId);
    channelsOf.set(sub, [...(channelsOf.get(sub) ?? []), channel.id]);
  }

  const statusEvents = (status: 'ONLINE' | 'OFFLINE', ts: number | undefined): OutgoingMessage[] =>
    chunks(subDevices, MAX_DEVICES_PER_MESSAGE).map((group) =>
      json(topics.eventsUp, {
        services: [
          {
            service_id: '$sub_device_manager',
            event_type: 'sub_device_update_status',
            ...(ts === undefined ? {} : { event_time: eventTime(ts) }),
            paras: { device_statuses: group.map((device_id) => ({ device_id, status })) },
          },
        ],
      }),
    );

  /** Service entries grouped per sub-device, in the order readings came; one entry per service and time. */
  const subDeviceReports = (entries: ReadonlyArray<{ subDeviceId: string; entry: ServiceEntry }>): OutgoingMessage[] => {
    const byDevice = new Map<string, ServiceEntry[]>();
    for (const { subDeviceId, entry } of entries) byDevice.set(subDeviceId, [...(byDevice.get(subDeviceId) ?? []), entry]);
    const devices = [...byDevice.entries()].map(([device_id, services]) => ({ device_id, services }));
    return chunks(devices, MAX_DEVICES_PER_MESSAGE).map((group) => json(topics.subDeviceReport, { devices: group }));
  };

  const readingProperties = (d: TelemetryDelivery, property: string): Record<string, string | number> => {
    const r = d.reading;
    const properties: Record<string, string | number> = {};
    // A bad reading has no value, and never gets one here: only its quality (when sent) says it is bad.
    if (r.quality !== 'bad' && r.value !== null) properties[property] = r.value;
    if (options.qualityProperties) properties[`${property}_quality`] = r.quality === 'good' ? 'good' : `${r.quality}:${r.reason ?? 'unknown'}`;
    return properties;
  };

  return {
    name: 'iotda',
    commandSubscriptions: [commandTopics.filter],

    connectIdentity(configured) {
      const { username, password, ...others } = configured.credentials;
      if (!password) {
        // A client certificate logs in by itself; without one IoTDA will refuse us.
        if (!configured.credentials.cert) ctx.host.log('error', 'IoTDA needs the device secret (broker.passwordFile) to derive its password; connecting as configured');
        return configured;
      }
      if (username !== undefined && username !== gw) {
        ctx.host.log('warn', 'the configured MQTT user name differs from iotda.gatewayDeviceId; IoTDA requires the device id, which is used');
      }
      return iotdaConnectIdentity(gw, password, ctx.host.now(), options.timestampCheck, others);
    },

    encodeTelemetry(batch: readonly TelemetryDelivery[]) {
      const entries: Array<{ subDeviceId: string; entry: ServiceEntry }> = [];
      // Readings of one service at one time share an entry, unless that entry has the property already.
      const open = new Map<string, ServiceEntry>();
      for (const d of batch) {
        const mapping = mappingOf(d.reading.channelId, d.reading.deviceId, d.reading.indicator);
        if (!mapping) continue;
        const properties = readingProperties(d, mapping.property);
        if (Object.keys(properties).length === 0) continue;
        const time = eventTime(d.ts);
        const key = `${mapping.subDeviceId}\u0000${mapping.service}\u0000${time}`;
        const entry = open.get(key);
        if (entry && !Object.keys(properties).some((p) => p in entry.properties)) {
          Object.assign(entry.properties, properties);
          continue;
        }
        const fresh: ServiceEntry = { service_id: mapping.service, properties, event_time: time };
        open.set(key, fresh);
        entries.push({ subDeviceId: mapping.subDeviceId, entry: fresh });
      }
      return subDeviceReports(entries);
    },

    encodeEvent(d: EventDelivery) {
      if (options.alarmService === null) return [];
      const e = d.event;
      const properties: Record<string, string | number> = { event: e.type, rule: e.rule };
      if (e.channelId !== undefined) properties.channel = e.channelId;
      const indicator = e.channelId === undefined ? undefined : indicatorOf.get(e.channelId);
      if (indicator !== undefined) properties.indicator = indicator;
      if (e.outputId !== undefined) properties.output = e.outputId;
      if (e.level !== undefined) properties.level = e.level;
      if (e.grade !== undefined && e.grade !== null) properties.grade = e.grade;
      if (e.value !== null) properties.value = e.value;
      if (e.unit !== undefined) properties.unit = e.unit;
      if (e.setpoint !== undefined) properties.setpoint = e.setpoint;
      if (e.cause !== undefined) properties.cause = e.cause;
      if (e.by !== undefined) properties.by = e.by;
      const entry: ServiceEntry = { service_id: options.alarmService, properties, event_time: eventTime(d.ts) };
      const device = e.channelId === undefined ? undefined : deviceOfChannel.get(e.channelId);
      const subDeviceId = device === undefined ? undefined : subDeviceOf(device);
      // An event about a reported channel belongs to its sub-device; the rest (outputs, silence) to the gateway itself.
      if (subDeviceId === undefined || !subDevices.includes(subDeviceId)) return json(topics.ownReport, { services: [entry] });
      return subDeviceReports([{ subDeviceId, entry }]);
    },

    encodeBirth(birth: BirthInfo) {
      return [
        ...statusEvents('ONLINE', birth.ts),
        json(topics.eventsUp, {
          services: [{ service_id: '$sdk_info', event_type: 'sdk_info_report', event_time: eventTime(birth.ts), paras: { sw_version: birth.version } }],
        }),
      ];
    },

    encodeWill() {
      // One message only, and no time: the platform stamps it when the broker publishes it. Beyond 100
      // sub-devices the rest stay ONLINE on IoTDA until the next birth (or IoTDA's own offline detection).
      return statusEvents('OFFLINE', undefined)[0] ?? json(topics.eventsUp, { services: [] });
    },

    encodeShutdown(stamp: StateStamp) {
      return statusEvents('OFFLINE', stamp.ts);
    },

    decodeCommand(topic, payload) {
      return decodeIotdaCommand(topic, payload, commandTopics, { gatewayDeviceId: gw, channelsOf }, ctx.host.now().ts);
    },

    encodeCommandResult(outcome) {
      return encodeIotdaResult(outcome, commandTopics);
    },
  };
}
