import type { SparkplugOptions } from '../../../../config/schema/index.js';
import type { Quality, QualityReason } from '../../../../drivers/reading.js';
import type { EventDelivery, TelemetryDelivery } from '../../payloads.js';
import type { BirthChannel, BirthInfo, CommandOutcome, DecodedCommand, GateInput, OutgoingMessage, PlatformProfile, ProfileContext } from '../../profile.js';
import { eventFields } from '../event-fields.js';
import { acknowledgeName, alarmLevelName, buildCatalogue, NODE_ALIAS, NODE_METRIC, NODE_TYPE, type ChannelEntry, type NodeMetricKey } from './catalogue.js';
import { commandRequests } from './commands.js';
import { parseHostState } from './host-state.js';
import { DataType, decodePayload, encodePayload, withSeq, type Metric, type Payload, type PropertySet, type ScalarValue } from './payload.js';
import { messageTypeOf, sparkplugTopics, type ParsedTopic } from './topics.js';

export { decodePayload, encodePayload, withSeq, DataType, type Metric, type Payload, type DecodedPayload, type DecodedMetric } from './payload.js';
export { NODE_ALIAS, NODE_METRIC, buildCatalogue } from './catalogue.js';
export { sparkplugTopics, NAMESPACE } from './topics.js';

/** Operator actions Sparkplug NCMD/DCMD can express here. */
export const SPARKPLUG_ACTIONS: readonly string[] = ['acknowledge'];

/** A command has no expiry of its own in Sparkplug: it is good for this long after it arrives. */
export const SPARKPLUG_COMMAND_TTL_MS = 60_000;

/** Reasons that mean the field device did not answer at all: every channel of a device like this = device dead. */
const SILENT_REASONS: ReadonlySet<QualityReason> = new Set(['timeout', 'port-down', 'breaker-open']);

/** OPC classic quality codes, as Sparkplug hosts (Ignition) read the "Quality" metric property. */
export const QUALITY_CODE: Readonly<Record<Quality, number>> = { good: 192, uncertain: 64, bad: 0 };

const LEVEL_NUMBER: Readonly<Record<string, number>> = { L1: 1, L2: 2 };

/** Message types that carry seq: NBIRTH starts at 0, every other one here adds 1 (mod 256). NDEATH has none. */
const SEQUENCED: ReadonlySet<string> = new Set(['NDATA', 'DBIRTH', 'DDATA', 'DDEATH']);

interface ChannelState {
  value: number | null;
  quality: Quality;
  reason?: QualityReason | undefined;
  ts: number;
}

/**
 * Sparkplug B 3.0: the gateway is the edge node, each field device a Sparkplug device, each channel a Double
 * metric (docs/platforms/sparkplug.md). The profile keeps the state the protocol needs: bdSeq (one per CONNECT),
 * seq (stamped in wire order), which devices are dead, the active alarm levels, and the primary host's STATE.
 */
export function createSparkplugProfile(ctx: ProfileContext, options: SparkplugOptions, channels: readonly BirthChannel[]): PlatformProfile {
  const edgeNodeId = options.edgeNodeId ?? ctx.gatewayId;
  const topics = sparkplugTopics(options.groupId, edgeNodeId, options.primaryHostId);
  const catalogue = buildCatalogue(channels);
  const qos = options.qos;

  /** The bdSeq of the current (or next) connection; encodeWill advances it before every CONNECT. */
  let bdSeq = -1;
  let seq = 0;
  /** A birth went out on this connection (an NDEATH on host-offline only makes sense after one). */
  let born = false;
  let hostTimestamp = -Infinity;
  let lastEvent = '';
  let lastResult = '';
  let commandCounter = 0;
  const states = new Map<string, ChannelState>();
  const dead = new Set<string>();
  /** Active alarm levels per channel, from live alarm events (absent: not known since start). */
  const levels = new Map<string, Set<string>>();
  const warnedChannels = new Set<string>();

  const message = (topic: string, payload: Payload, datatypes: boolean, messageQos: 0 | 1 = qos): OutgoingMessage => ({
    topic,
    payload: encodePayload(payload, { datatypes }),
    retain: false,
    qos: messageQos,
  });

  const nodeMetric = (key: NodeMetricKey, timestamp: number, value: ScalarValue): Metric => ({
    name: NODE_METRIC[key],
    alias: NODE_ALIAS[key],
    timestamp,
    datatype: NODE_TYPE[key],
    value,
  });

  const qualityProperties = (quality: Quality, reason: string | undefined): PropertySet => [
    ['Quality', { type: DataType.Int32, value: QUALITY_CODE[quality] }],
    ...(reason === undefined ? [] : ([['qualityReason', { type: DataType.String, value: reason }]] as const)),
  ];

  const levelOf = (channelId: string): number | null => {
    const active = levels.get(channelId);
    if (!active) return null;
    let level = 0;
    for (const name of active) level = Math.max(level, LEVEL_NUMBER[name] ?? 0);
    return level;
  };

  const channelBirthMetrics = (entry: ChannelEntry, now: number): Metric[] => {
    const c = entry.channel;
    const state = states.get(c.id);
    const properties: PropertySet = [
      ['engUnit', { type: DataType.String, value: c.unit ?? '' }],
      ...(c.indicator === undefined ? [] : ([['indicator', { type: DataType.String, value: c.indicator }]] as const)),
      ...(c.name === undefined ? [] : ([['description', { type: DataType.String, value: c.name }]] as const)),
      ...(state ? qualityProperties(state.quality, state.reason) : qualityProperties('bad', 'no-reading')),
    ];
    return [
      { name: c.id, alias: entry.valueAlias, timestamp: state?.ts ?? now, datatype: DataType.Double, value: state?.value ?? null, properties },
      { name: alarmLevelName(c.id), alias: entry.levelAlias, timestamp: now, datatype: DataType.Int32, value: levelOf(c.id) },
      { name: acknowledgeName(c.id), alias: entry.acknowledgeAlias, timestamp: now, datatype: DataType.Boolean, value: false },
    ];
  };

  const deviceBirth = (deviceId: string, now: number): OutgoingMessage =>
    message(
      topics.device('DBIRTH', deviceId),
      { timestamp: now, metrics: (catalogue.devices.get(deviceId) ?? []).flatMap((entry) => channelBirthMetrics(entry, now)) },
      true,
    );

  const deviceDeath = (deviceId: string, timestamp: number): OutgoingMessage => message(topics.device('DDEATH', deviceId), { timestamp, metrics: [] }, false);

  const deviceSilent = (deviceId: string): boolean =>
    (catalogue.devices.get(deviceId) ?? []).every((entry) => {
      const state = states.get(entry.channel.id);
      return state !== undefined && state.quality === 'bad' && state.reason !== undefined && SILENT_REASONS.has(state.reason);
    });

  const nodeDeath = (timestamp: number | undefined): OutgoingMessage =>
    message(
      topics.node('NDEATH'),
      { ...(timestamp === undefined ? {} : { timestamp }), metrics: [{ name: NODE_METRIC.bdSeq, datatype: DataType.Int64, value: Math.max(bdSeq, 0) }] },
      true,
      1,
    );

  const nodeData = (metrics: Metric[]): OutgoingMessage => message(topics.node('NDATA'), { timestamp: ctx.host.now().ts, metrics }, false);

  const resultMessage = (result: Record<string, unknown>, ts: number): OutgoingMessage => {
    lastResult = JSON.stringify(result);
    return nodeData([{ alias: NODE_ALIAS.lastResult, timestamp: ts, datatype: DataType.String, value: lastResult }]);
  };

  const warnUnknownChannel = (channelId: string): void => {
    if (warnedChannels.has(channelId)) return;
    warnedChannels.add(channelId);
    ctx.host.log('warn', 'reading of a channel not in the births: not sent to the Sparkplug host', { channel: channelId });
  };

  /** The primary host was last seen online on this connection (the gate is open). */
  let hostOnline = false;

  const onHostState = (payload: Buffer): void => {
    const state = parseHostState(payload);
    if (!state.ok) {
      ctx.host.log('warn', 'primary host STATE ignored', { error: state.error });
      return;
    }
    if (state.timestamp !== undefined) {
      if (state.timestamp < hostTimestamp) {
        ctx.host.log('info', 'primary host STATE older than the last one: ignored', { timestamp: state.timestamp });
        return;
      }
      hostTimestamp = state.timestamp;
    }
    if (state.online) {
      hostOnline = true;
      ctx.host.setGate(true);
      return;
    }
    // Already waiting (the retained "offline" arrives again on every subscribe): nothing to end.
    if (!hostOnline) return;
    // The host went away: end this session (the broker publishes our NDEATH will, with this session's bdSeq),
    // hold data in the outbox, and connect again with a new bdSeq; birth waits for the host's next "online".
    hostOnline = false;
    born = false;
    ctx.host.setGate(false);
    ctx.host.reconnect('primary host offline');
  };

  const commandId = (parsed: ParsedTopic, timestamp: number | undefined, index: number, metric: string): string => {
    const who = parsed.kind === 'device' ? `DCMD/${parsed.deviceId}` : 'NCMD';
    const when = timestamp === undefined ? `r${ctx.host.now().ts}.${++commandCounter}` : String(timestamp);
    return `${who}/${metric}@${when}#${index}`;
  };

  const fail = (topic: string, error: string): GateInput => ({ ok: false, id: null, error, topic });

  return {
    name: 'sparkplug',
    gated: topics.state !== undefined,
    commandSubscriptions: [topics.node('NCMD'), `${topics.node('NCMD').replace('/NCMD/', '/DCMD/')}/+`],
    // Rebirth requests and the primary host's state matter even where operator commands are disabled.
    controlSubscriptions: [topics.node('NCMD'), ...(topics.state ? [topics.state] : [])],

    sessionStarted() {
      born = false;
      hostOnline = false;
    },

    sessionEnded() {
      born = false;
    },

    encodeWill() {
      bdSeq = (bdSeq + 1) % 256;
      // No timestamp: the broker publishes the will whenever it notices the loss.
      return nodeDeath(undefined);
    },

    encodeShutdown(stamp) {
      return nodeDeath(stamp.ts);
    },

    encodeBirth(birth: BirthInfo) {
      born = true;
      for (const latest of birth.latest) {
        if (catalogue.channel(latest.channelId)) states.set(latest.channelId, { value: latest.value, quality: latest.quality, reason: latest.reason, ts: latest.ts });
      }
      dead.clear();
      const now = birth.ts;
      const nbirth = message(
        topics.node('NBIRTH'),
        {
          timestamp: now,
          metrics: [
            nodeMetric('bdSeq', now, Math.max(bdSeq, 0)),
            nodeMetric('rebirth', now, false),
            nodeMetric('version', now, birth.version),
            nodeMetric('configHash', now, birth.configHash),
            nodeMetric('site', now, ctx.siteId),
            nodeMetric('lastEvent', now, lastEvent),
            nodeMetric('lastResult', now, lastResult),
            nodeMetric('force', now, ''),
            nodeMetric('release', now, ''),
          ],
        },
        true,
      );
      const births: OutgoingMessage[] = [nbirth];
      const deaths: OutgoingMessage[] = [];
      for (const deviceId of catalogue.devices.keys()) {
        births.push(deviceBirth(deviceId, now));
        if (deviceSilent(deviceId)) {
          dead.add(deviceId);
          deaths.push(deviceDeath(deviceId, now));
        }
      }
      return [...births, ...deaths];
    },

    encodeTelemetry(batch: readonly TelemetryDelivery[]) {
      const now = ctx.host.now().ts;
      // In order: per device one DDATA collecting its metrics, closed by a DDEATH or DBIRTH of that device.
      const parts: Array<{ deviceId: string; metrics: Metric[] } | OutgoingMessage> = [];
      const open = new Map<string, Metric[]>();
      const add = (deviceId: string, metric: Metric): void => {
        let metrics = open.get(deviceId);
        if (!metrics) {
          metrics = [];
          open.set(deviceId, metrics);
          parts.push({ deviceId, metrics });
        }
        metrics.push(metric);
      };
      for (const d of batch) {
        const entry = catalogue.channel(d.reading.channelId);
        if (!entry) {
          warnUnknownChannel(d.reading.channelId);
          continue;
        }
        const deviceId = entry.deviceId;
        const metric: Metric = {
          alias: entry.valueAlias,
          timestamp: d.ts,
          datatype: DataType.Double,
          value: d.reading.value,
          ...(d.historical ? { isHistorical: true } : {}),
          properties: qualityProperties(d.reading.quality, d.reading.reason),
        };
        // Replayed data is history: it goes as it was, and says nothing about whether the device lives now.
        if (d.historical) {
          add(deviceId, metric);
          continue;
        }
        const wasDead = dead.has(deviceId);
        states.set(entry.channel.id, { value: d.reading.value, quality: d.reading.quality, reason: d.reading.reason, ts: d.ts });
        const silent = deviceSilent(deviceId);
        if (wasDead) {
          if (silent) continue; // still silent: the DDEATH already said so
          dead.delete(deviceId);
          open.delete(deviceId);
          parts.push(deviceBirth(deviceId, now)); // carries this reading as the metric's current value
          continue;
        }
        add(deviceId, metric);
        if (silent) {
          dead.add(deviceId);
          open.delete(deviceId);
          parts.push(deviceDeath(deviceId, d.ts));
        }
      }
      return parts.map((part) =>
        'topic' in part ? part : message(topics.device('DDATA', part.deviceId), { timestamp: now, metrics: part.metrics }, false),
      );
    },

    encodeEvent(d: EventDelivery) {
      const e = d.event;
      const text = JSON.stringify({ ...eventFields(e), seq: d.seq, clock: d.clock });
      const messages: OutgoingMessage[] = [
        nodeData([{ alias: NODE_ALIAS.lastEvent, timestamp: d.ts, datatype: DataType.String, value: text, ...(d.historical ? { isHistorical: true } : {}) }]),
      ];
      if (d.historical) return messages;
      lastEvent = text;
      const entry = e.channelId === undefined ? undefined : catalogue.channel(e.channelId);
      if (entry && e.level !== undefined && (e.type === 'alarm-raised' || e.type === 'alarm-cleared')) {
        const active = levels.get(entry.channel.id) ?? new Set<string>();
        if (e.type === 'alarm-raised') active.add(e.level);
        else active.delete(e.level);
        levels.set(entry.channel.id, active);
        if (!dead.has(entry.deviceId)) {
          const level: Metric = { alias: entry.levelAlias, timestamp: d.ts, datatype: DataType.Int32, value: levelOf(entry.channel.id) };
          messages.push(message(topics.device('DDATA', entry.deviceId), { timestamp: ctx.host.now().ts, metrics: [level] }, false));
        }
      }
      return messages;
    },

    decodeCommand(topic: string, payload: Buffer, retained = false): DecodedCommand {
      const parsed = topics.parse(topic);
      if (parsed?.kind === 'state') {
        // STATE is retained by design: it is how a node learns the host's state when it connects.
        onHostState(payload);
        return { ok: 'handled' };
      }
      if (!parsed || (parsed.type !== 'NCMD' && parsed.type !== 'DCMD')) return fail(topic, 'not a command topic of this edge node');
      // A retained NCMD/DCMD would run again on every connect (all its metrics, a rebirth included): none of it runs.
      if (retained) return fail(topic, 'retained commands are not accepted (publish commands with retain off)');
      const deviceId = parsed.kind === 'device' ? parsed.deviceId : undefined;
      if (deviceId !== undefined && !catalogue.devices.has(deviceId)) return fail(topic, `no device "${deviceId}" on this edge node`);
      let decoded;
      try {
        decoded = decodePayload(payload);
      } catch (error) {
        return fail(topic, `not a Sparkplug B payload: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (decoded.metrics.length === 0) return fail(topic, 'the command carries no metrics');
      const receivedAt = ctx.host.now().ts;
      let rebirth = false;
      const inputs: GateInput[] = [];
      commandRequests(decoded, catalogue, deviceId).forEach((request, index) => {
        if (request.kind === 'rebirth') {
          rebirth = true;
          return;
        }
        const id = commandId(parsed, decoded.timestamp, index, request.metric);
        const context = { metric: request.metric };
        if (request.kind === 'error') {
          inputs.push({ ok: false, id, error: request.error, topic, context, ...(request.action === undefined ? {} : { action: request.action }) });
        } else {
          inputs.push({ ok: true, command: { id, expiresAt: receivedAt + SPARKPLUG_COMMAND_TTL_MS, command: request.command, action: request.action, topic, context } });
        }
      });
      if (rebirth) ctx.host.rebirth();
      const [first, ...rest] = inputs;
      // One metric per command: the first goes back to the gate, any others are submitted (or refused) beside it.
      for (const extra of rest) {
        if (extra.ok) {
          ctx.host.submit(extra.command);
        } else {
          ctx.host.log('warn', 'platform command refused', { id: extra.id, error: extra.error });
          ctx.host.publish([resultMessage({ id: extra.id, metric: extra.context?.metric, status: 'refused', reason: 'malformed', message: extra.error }, receivedAt)]);
        }
      }
      return first ?? { ok: 'handled' };
    },

    encodeCommandResult(outcome: CommandOutcome) {
      return resultMessage(
        {
          id: outcome.id,
          ...(outcome.context?.metric === undefined ? {} : { metric: outcome.context.metric }),
          ...(outcome.action === undefined ? {} : { action: outcome.action }),
          status: outcome.status,
          reason: outcome.reason,
          message: outcome.message,
        },
        outcome.ts,
      );
    },

    onWire(outgoing: OutgoingMessage) {
      const type = messageTypeOf(outgoing.topic);
      if (type === 'NBIRTH') seq = 0;
      else if (type !== undefined && SEQUENCED.has(type)) seq = (seq + 1) % 256;
      else return outgoing;
      return { ...outgoing, payload: withSeq(outgoing.payload, seq) };
    },
  };
}
