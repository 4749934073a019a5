import type { BirthChannel } from '../../profile.js';
import { DataType, type DataTypeCode } from './payload.js';

/**
 * Every metric this edge node births, with its alias. Aliases are assigned from the site's channel list, so
 * they stay the same from one birth to the next as long as the channel list does (and every birth states
 * them anyway): node metrics 1–9, then 100 + 3 × (channel index) + 0 value, 1 alarm level, 2 acknowledge.
 */

export const NODE_METRIC = {
  bdSeq: 'bdSeq',
  rebirth: 'Node Control/Rebirth',
  version: 'Node Info/Version',
  configHash: 'Node Info/Config Hash',
  site: 'Node Info/Site',
  lastEvent: 'Events/Last',
  lastResult: 'Commands/Last Result',
  force: 'Commands/Force',
  release: 'Commands/Release',
} as const;

export type NodeMetricKey = keyof typeof NODE_METRIC;

export const NODE_ALIAS: Readonly<Record<NodeMetricKey, number>> = {
  bdSeq: 1,
  rebirth: 2,
  version: 3,
  configHash: 4,
  site: 5,
  lastEvent: 6,
  lastResult: 7,
  force: 8,
  release: 9,
};

export const NODE_TYPE: Readonly<Record<NodeMetricKey, DataTypeCode>> = {
  bdSeq: DataType.Int64,
  rebirth: DataType.Boolean,
  version: DataType.String,
  configHash: DataType.String,
  site: DataType.String,
  lastEvent: DataType.String,
  lastResult: DataType.String,
  force: DataType.String,
  release: DataType.String,
};

const CHANNEL_ALIAS_BASE = 100;

export const alarmLevelName = (channelId: string): string => `Alarms/${channelId}/Level`;
export const acknowledgeName = (channelId: string): string => `Alarms/${channelId}/Acknowledge`;

export interface ChannelEntry {
  channel: BirthChannel;
  /** The Sparkplug device the channel belongs to (its field device). */
  deviceId: string;
  valueAlias: number;
  levelAlias: number;
  acknowledgeAlias: number;
}

/** A metric a host may write (NCMD/DCMD), as declared in the births. */
export type Writable =
  | { kind: 'rebirth'; type: typeof DataType.Boolean }
  | { kind: 'force'; type: typeof DataType.String }
  | { kind: 'release'; type: typeof DataType.String }
  | { kind: 'acknowledge'; type: typeof DataType.Boolean; channelId: string };

export interface Catalogue {
  /** Field devices in site order, each with its channels in site order. */
  devices: ReadonlyMap<string, readonly ChannelEntry[]>;
  channel(channelId: string): ChannelEntry | undefined;
  /** A writable node metric by name or alias. */
  nodeWritable(name: string | undefined, alias: number | undefined): Writable | undefined;
  /** A writable metric of one device by name or alias. */
  deviceWritable(deviceId: string, name: string | undefined, alias: number | undefined): Writable | undefined;
}

/** Channels without a device id (not produced by the agent's wiring) are grouped under this device. */
export const FALLBACK_DEVICE = 'gateway';

export function buildCatalogue(channels: readonly BirthChannel[]): Catalogue {
  const devices = new Map<string, ChannelEntry[]>();
  const byChannel = new Map<string, ChannelEntry>();
  channels.forEach((channel, index) => {
    if (byChannel.has(channel.id)) return;
    const deviceId = channel.deviceId ?? FALLBACK_DEVICE;
    const base = CHANNEL_ALIAS_BASE + 3 * index;
    const entry: ChannelEntry = { channel, deviceId, valueAlias: base, levelAlias: base + 1, acknowledgeAlias: base + 2 };
    byChannel.set(channel.id, entry);
    const list = devices.get(deviceId) ?? [];
    list.push(entry);
    devices.set(deviceId, list);
  });

  const nodeWritables = new Map<string | number, Writable>();
  const addNode = (key: NodeMetricKey, writable: Writable): void => {
    nodeWritables.set(NODE_METRIC[key], writable);
    nodeWritables.set(NODE_ALIAS[key], writable);
  };
  addNode('rebirth', { kind: 'rebirth', type: DataType.Boolean });
  addNode('force', { kind: 'force', type: DataType.String });
  addNode('release', { kind: 'release', type: DataType.String });

  const deviceWritables = new Map<string, Map<string | number, Writable>>();
  for (const [deviceId, entries] of devices) {
    const map = new Map<string | number, Writable>();
    for (const entry of entries) {
      const writable: Writable = { kind: 'acknowledge', type: DataType.Boolean, channelId: entry.channel.id };
      map.set(acknowledgeName(entry.channel.id), writable);
      map.set(entry.acknowledgeAlias, writable);
    }
    deviceWritables.set(deviceId, map);
  }

  const lookup = (map: ReadonlyMap<string | number, Writable> | undefined, name: string | undefined, alias: number | undefined): Writable | undefined => {
    if (!map) return undefined;
    if (name !== undefined) return map.get(name);
    return alias === undefined ? undefined : map.get(alias);
  };

  return {
    devices,
    channel: (channelId) => byChannel.get(channelId),
    nodeWritable: (name, alias) => lookup(nodeWritables, name, alias),
    deviceWritable: (deviceId, name, alias) => lookup(deviceWritables.get(deviceId), name, alias),
  };
}
