import type { ClockFlag, EventDelivery, TelemetryDelivery } from './payloads.js';

/**
 * A platform profile: how one platform protocol (the native JSON contract, Sparkplug B, the geohazard $dp
 * format, IoTDA, ThingsBoard) names its topics and encodes and decodes messages. Everything else — the outbox,
 * the in-flight window, batching, pacing, reconnects, command expiry, duplicates and signatures — is shared, so
 * a new platform is one module implementing this interface. A profile may keep state (Sparkplug's seq and bdSeq);
 * sessionStarted() is called on every new broker connection before the birth is encoded.
 */
export interface PlatformProfile {
  readonly name: string;
  /** Topic filters to subscribe to for commands (only this gateway's own). */
  readonly commandSubscriptions: readonly string[];
  sessionStarted?(): void;
  /** One message carrying a batch of readings (all live or all historical, in seq order). */
  encodeTelemetry(batch: readonly TelemetryDelivery[]): OutgoingMessage;
  encodeEvent(event: EventDelivery): OutgoingMessage;
  /** The retained "online" state published on every connect. */
  encodeBirth(birth: BirthInfo): OutgoingMessage;
  /** The will: published by the broker when the connection dies without a goodbye. */
  encodeWill(): OutgoingMessage;
  /** Published on an orderly stop (the broker does not send the will then). */
  encodeShutdown(stamp: StateStamp): OutgoingMessage;
  decodeCommand(topic: string, payload: Buffer): DecodedCommand;
  encodeCommandResult(outcome: CommandOutcome): OutgoingMessage;
}

export interface OutgoingMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** MQTT 5 content type, where the profile has one. */
  contentType?: string;
}

export interface ProfileContext {
  siteId: string;
  gatewayId: string;
  /** First topic level(s), e.g. "vigil" or "city/hazard". */
  topicPrefix: string;
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
}

export type DecodedCommand =
  | { ok: true; command: PlatformCommand }
  | { ok: false; id: string | null; action?: string; error: string; topic: string };

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
}
