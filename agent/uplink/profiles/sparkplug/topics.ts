/** Sparkplug B topic namespace: spBv1.0/<group>/<type>/<edge node>[/<device>], and the host's spBv1.0/STATE/<host id>. */

export const NAMESPACE = 'spBv1.0';

export type NodeMessageType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD';
export type DeviceMessageType = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD';
export type MessageType = NodeMessageType | DeviceMessageType;

export interface SparkplugTopics {
  node(type: NodeMessageType): string;
  device(type: DeviceMessageType, deviceId: string): string;
  /** The primary host's STATE topic, when one is configured. */
  state: string | undefined;
  /** What a topic is, when it belongs to this edge node (or is the configured host's STATE). */
  parse(topic: string): ParsedTopic | undefined;
}

export type ParsedTopic = { kind: 'state' } | { kind: 'node'; type: NodeMessageType } | { kind: 'device'; type: DeviceMessageType; deviceId: string };

const NODE_TYPES: ReadonlySet<string> = new Set(['NBIRTH', 'NDEATH', 'NDATA', 'NCMD']);
const DEVICE_TYPES: ReadonlySet<string> = new Set(['DBIRTH', 'DDEATH', 'DDATA', 'DCMD']);

export function sparkplugTopics(groupId: string, edgeNodeId: string, primaryHostId: string | undefined): SparkplugTopics {
  const base = (type: string): string => `${NAMESPACE}/${groupId}/${type}/${edgeNodeId}`;
  const state = primaryHostId === undefined ? undefined : `${NAMESPACE}/STATE/${primaryHostId}`;
  return {
    node: (type) => base(type),
    device: (type, deviceId) => `${base(type)}/${deviceId}`,
    state,
    parse(topic) {
      if (state !== undefined && topic === state) return { kind: 'state' };
      const parts = topic.split('/');
      if (parts[0] !== NAMESPACE || parts[1] !== groupId || parts[3] !== edgeNodeId) return undefined;
      const type = parts[2] ?? '';
      if (parts.length === 4 && NODE_TYPES.has(type)) return { kind: 'node', type: type as NodeMessageType };
      if (parts.length === 5 && DEVICE_TYPES.has(type) && parts[4]) return { kind: 'device', type: type as DeviceMessageType, deviceId: parts[4] };
      return undefined;
    },
  };
}

/** The message type of a topic of ours (the level after the group id), for stamping seq. */
export function messageTypeOf(topic: string): string | undefined {
  const parts = topic.split('/');
  return parts[0] === NAMESPACE ? parts[2] : undefined;
}
