import type { Quality, QualityReason } from '../../drivers/reading.js';
import type { BrokerCredentials } from './credentials.js';
import type { ClockFlag, EventDelivery, TelemetryDelivery } from './payloads.js';

/**
 * A platform profile: how one platform protocol (the native JSON contract, Sparkplug B, the geohazard $dp
 * format, IoTDA, ThingsBoard) names its topics and encodes and decodes messages. Everything else — the outbox,
 * the in-flight window, batching, pacing, reconnects, command expiry, duplicates and signatures — is shared, so
 * a new platform is one module implementing this interface. A profile may keep state (Sparkplug's seq and bdSeq).
 *
 * Call order per connection: encodeWill() (before CONNECT), sessionStarted(), encodeBirth(), then data and
 * commands in publish order (so a per-message counter such as Sparkplug's seq follows the wire), sessionEnded()
 * when the connection is gone. Encoders may return several messages (one per field device, say): the records
 * they carry are acked once every one of them is acknowledged.
 */
export interface PlatformProfile {
  readonly name: string;
  /**
   * Topic filters for operator commands: subscribed when commands are enabled for the platform (and, for a
   * gated profile, always). Without commands enabled, operator commands arriving there are ignored and counted.
   */
  readonly commandSubscriptions: readonly string[];
  /**
   * Topic filters subscribed to even when commands are disabled: protocol control (a primary host's state, a
   * rebirth request). Messages on them go to decodeCommand too, which answers them itself ({ ok: 'handled' }).
   */
  readonly controlSubscriptions?: readonly string[];
  /**
   * True when the profile must not publish its birth or data until it opens the gate (host.setGate(true)),
   * e.g. Sparkplug waiting for its primary host. Default false: the gate is open on every connect.
   */
  readonly gated?: boolean;
  /**
   * The MQTT client id and credentials for the next CONNECT, from the configured ones; called before every
   * connect (a platform may derive its password from the time, as IoTDA does). Default: as configured.
   */
  connectIdentity?(configured: ConnectIdentity): ConnectIdentity;
  sessionStarted?(): void;
  sessionEnded?(): void;
  /** One or more messages carrying a batch of readings (all live or all historical, in seq order). */
  encodeTelemetry(batch: readonly TelemetryDelivery[]): OutgoingMessage | readonly OutgoingMessage[];
  encodeEvent(event: EventDelivery): OutgoingMessage | readonly OutgoingMessage[];
  /** The "online" message(s) published on every connect (and on a rebirth). */
  encodeBirth(birth: BirthInfo): OutgoingMessage | readonly OutgoingMessage[];
  /** The will: published by the broker when the connection dies without a goodbye. */
  encodeWill(): OutgoingMessage;
  /** Published on an orderly stop (the broker does not send the will then). */
  encodeShutdown(stamp: StateStamp): OutgoingMessage | readonly OutgoingMessage[];
  /**
   * A message on one of commandSubscriptions. An operator command goes to the shared gate (expiry, duplicates,
   * signatures, then the command handler); a profile-level request (a rebirth, a time request, a report mode)
   * the profile answers itself through its host and returns { ok: 'handled' }.
   */
  decodeCommand(topic: string, payload: Buffer, retained?: boolean): DecodedCommand;
  /** The answer to a command the gate judged; null when the platform expects none. */
  encodeCommandResult(outcome: CommandOutcome): OutgoingMessage | null;
  /**
   * Called for every message right before it goes on the wire, in wire order, across births, data, answers
   * and host publishes (not the will): where a per-message counter such as Sparkplug's seq is stamped.
   */
  onWire?(message: OutgoingMessage): OutgoingMessage;
  /** The uplink is stopping for good: clear timers. */
  dispose?(): void;
}

export interface ConnectIdentity {
  clientId: string;
  credentials: BrokerCredentials;
}

export interface OutgoingMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** MQTT 5 content type, where the profile has one. */
  contentType?: string;
  /**
   * Default 1. A QoS 0 message counts as delivered once it is written to the socket: use it only where the
   * platform's protocol demands QoS 0 and says so in its documentation.
   */
  qos?: 0 | 1;
}

export interface ProfileIdentity {
  siteId: string;
  gatewayId: string;
  /** First topic level(s), e.g. "vigil" or "city/hazard". */
  topicPrefix: string;
}

export interface ProfileContext extends ProfileIdentity {
  /** What the profile may ask of the uplink that runs it. */
  host: ProfileHost;
}

/** The latest reading of a channel, as a profile may need it for a birth or an on-demand report. */
export interface LatestValue {
  channelId: string;
  deviceId: string;
  value: number | null;
  unit: string;
  quality: Quality;
  reason?: QualityReason;
  ts: number;
  clock: ClockFlag;
}

/** Services the uplink offers a profile. Every method is safe to call at any time, online or not. */
export interface ProfileHost {
  /** Publishes live, outside the outbox (answers, on-demand reports); dropped when offline. */
  publish(messages: readonly OutgoingMessage[]): void;
  /** Publishes the birth again at once (a platform's rebirth request). */
  rebirth(): void;
  /** Opens or closes the gate of a gated profile: closed = no birth, no data (it stays in the outbox). */
  setGate(open: boolean): void;
  /**
   * Drops the connection without a goodbye (the broker publishes the will) and connects again after the usual
   * back-off: a protocol's "end the session" (Sparkplug, when its primary host goes offline).
   */
  reconnect(reason: string): void;
  /** The latest reading of every channel. */
  latest(): readonly LatestValue[];
  /** Asks the field side to poll now (a platform's "sample" request); false when it cannot. */
  requestSample(): boolean;
  now(): StateStamp;
  /**
   * Runs an operator command through the shared gate, as decodeCommand would have returned it (for a profile
   * that turns one platform request into several commands). Pass on `retained` from decodeCommand: the gate
   * refuses retained commands.
   */
  submit(command: PlatformCommand, retained?: boolean): void;
  log(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void;
}

export interface BirthChannel {
  id: string;
  deviceId?: string;
  indicator?: string;
  unit?: string;
  name?: string;
}

export interface StateStamp {
  ts: number;
  clock: ClockFlag;
}

export interface BirthInfo extends StateStamp {
  /** Agent version. */
  version: string;
  /** Hash of the site config in force, so the platform knows which config produced the data. */
  configHash: string;
  channels: readonly BirthChannel[];
  /** The latest reading of each channel at the time of the birth (Sparkplug births carry current values). */
  latest: readonly LatestValue[];
  /**
   * Seqs the outbox skipped at its last open, after an unclean stop: reserved and never used, or issued and lost
   * with the last group commit (some of those may have been sent live before the stop). Absent after a clean stop.
   */
  skippedSeqs?: { from: number; to: number };
  /**
   * Every range skipped at the outbox's recent opens (the last 32), newest last: a run killed before it reached
   * the platform could not name its own range. Absent when there is none.
   */
  skippedRanges?: ReadonlyArray<{ from: number; to: number }>;
}

/** A command as the profile decoded it; the shared gate judges expiry, duplicates and signature. */
export interface PlatformCommand {
  id: string;
  /** Absolute expiry, ms UTC. */
  expiresAt: number;
  /** The operator command (validated later by the command handler) or a push-config request. */
  command: unknown;
  /** Action name when the command has one, for results and for the signature policy. */
  action: string | undefined;
  /** Signature as sent, and the exact text it must be the HMAC of. */
  signature?: { value: string; signed: string };
  topic: string;
  /** Whatever the profile needs to answer in the platform's terms (a command name, a message id); echoed in the outcome. */
  context?: Readonly<Record<string, string>>;
}

export type DecodedCommand =
  | { ok: true; command: PlatformCommand }
  | { ok: false; id: string | null; action?: string; error: string; topic: string; context?: Readonly<Record<string, string>> }
  /** The profile dealt with it itself (and answered through its host, if the platform expects an answer). */
  | { ok: 'handled' };

/** A decoded command the shared gate judges (not one the profile handled itself). */
export type GateInput = Exclude<DecodedCommand, { ok: 'handled' }>;

export type RefusalReason =
  | 'malformed'
  | 'retained'
  | 'stale'
  | 'expiry-too-far'
  | 'duplicate'
  | 'signature-required'
  | 'bad-signature'
  | 'unsupported'
  | 'invalid'
  | 'failed';

export interface CommandOutcome extends StateStamp {
  id: string | null;
  /** done: carried out; refused: not carried out, for the reason given; failed: tried and could not. */
  status: 'done' | 'refused' | 'failed';
  reason: RefusalReason | null;
  action?: string;
  message: string;
  details?: Record<string, unknown>;
  /** The topic the command came in on (profiles that answer per request derive the reply topic from it). */
  topic: string;
  /** The decoded command's context, as the profile set it. */
  context?: Readonly<Record<string, string>>;
}

/** A host that offers nothing: for encoding outside a running uplink (tests, tools, benchmarks). */
export function detachedProfileHost(now: () => StateStamp = () => ({ ts: Date.now(), clock: 'unsynced' })): ProfileHost {
  return {
    publish: () => undefined,
    rebirth: () => undefined,
    setGate: () => undefined,
    reconnect: () => undefined,
    latest: () => [],
    requestSample: () => false,
    now,
    submit: () => undefined,
    log: () => undefined,
  };
}
