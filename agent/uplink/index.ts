/**
 * The uplink to the city platform: the recorder (readings and events into the outbox, by reporting policy),
 * the MQTT uplink (outbox → broker in a bounded window, birth/will, reconnect, commands), platform profiles
 * (the native JSON contract; others are one module each over the same outbox) and broker credentials.
 */
export { Uplink, type UplinkStats, type UplinkState } from './uplink.js';
export type {
  UplinkOptions,
  BrokerOptions,
  DeliveryTuning,
  ReconnectTuning,
  UplinkClock,
  UplinkTraceEvent,
} from './options.js';
export { Recorder, DEFAULT_REPORTING, type ReportingPolicy, type RecorderChannel, type RecorderOptions, type RecorderSources, type RecorderStats } from './recorder.js';
export { readBrokerCredentials, CredentialsError, USERNAME_ENV, PASSWORD_ENV, type BrokerCredentials, type CredentialSources } from './credentials.js';
export { Secret } from './secret.js';
export {
  CommandGate,
  DEFAULT_GUARDED_ACTIONS,
  PUSH_CONFIG_ACTION,
  parseCommandSnapshot,
  type CommandOptions,
  type CommandExecutor,
  type PushConfigHandler,
  type SignaturePolicy,
  type CommandMemorySnapshot,
} from './command-gate.js';
export { detachedProfileHost } from './profile.js';
export type {
  PlatformProfile,
  ProfileContext,
  ProfileIdentity,
  ProfileHost,
  LatestValue,
  ConnectIdentity,
  GateInput,
  OutgoingMessage,
  BirthInfo,
  BirthChannel,
  StateStamp,
  PlatformCommand,
  DecodedCommand,
  CommandOutcome,
  RefusalReason,
} from './profile.js';
export { createNativeProfile, nativeTopics, nativeSignedText, NATIVE_VERSION, SIGNATURE_DOMAIN, type NativeTopics } from './profiles/native.js';
export { canonicalJson } from './canonical-json.js';
export type { OutboxReader, OutboxAppender, OutboxRecord, OutboxStream, OutboxStamp } from './outbox-port.js';
export type { TelemetryPayload, EventPayload, Delivery, TelemetryDelivery, EventDelivery, ClockFlag } from './payloads.js';
