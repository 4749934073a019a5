import type { ClockStamp } from '../../drivers/reading.js';
import type { Logger } from '../log/index.js';
import type { CommandOptions } from './command-gate.js';
import type { BrokerCredentials } from './credentials.js';
import type { OutboxReader } from './outbox-port.js';
import type { BirthChannel, LatestValue, PlatformProfile, ProfileContext } from './profile.js';

/**
 * Everything the uplink needs, typed. The agent maps these from the settings (mqtt.url, the credential and TLS
 * files via readBrokerCredentials) and the site; every tuning value has a default.
 */
export interface UplinkOptions {
  /** The gateway's id: the MQTT client id and a topic level. */
  gatewayId: string;
  siteId: string;
  broker: BrokerOptions;
  outbox: OutboxReader;
  clock: UplinkClock;
  logger: Logger;
  /** Birth message content: agent version, config hash, channels. */
  birth: { version: string; configHash: string; channels: readonly BirthChannel[] };
  /** First topic level(s); default "vigil". Topics are <prefix>/<site>/<gateway>/... */
  topicPrefix?: string;
  /** MQTT client id; default the gateway id. */
  clientId?: string;
  /** This platform's name in logs and status, when a gateway feeds several. */
  name?: string;
  /** The latest reading of every channel (births, on-demand reports); default none. */
  latest?: () => readonly LatestValue[];
  /** The seqs the outbox skipped at open after an unclean stop (reported in the birth), or null. */
  skippedSeqs?: () => { from: number; to: number } | null;
  /** The ranges skipped at recent opens, newest last (reported in the birth); default none. */
  skippedRanges?: () => ReadonlyArray<{ from: number; to: number }>;
  /** Polls every device now (a platform's "sample" request); false when it cannot. */
  requestSample?: () => boolean;
  /** The platform protocol; default the native JSON profile. */
  profile?: (ctx: ProfileContext) => PlatformProfile;
  delivery?: DeliveryTuning;
  reconnect?: ReconnectTuning;
  /** Commands from the platform; absent: no command subscription. */
  commands?: CommandOptions;
  /** For tests: the jitter source. */
  random?: () => number;
  /** Every connection change, for diagnostics and tests. */
  trace?: (event: UplinkTraceEvent) => void;
}

export interface BrokerOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL, without credentials. */
  url: string;
  /** MQTT 5 (default) or 3.1.1. */
  protocolVersion?: 4 | 5;
  credentials?: BrokerCredentials;
  /** Verify the broker's TLS certificate; default true. */
  rejectUnauthorized?: boolean;
  /** Default 30 s. */
  keepaliveSec?: number;
  /** Default 15 s. */
  connectTimeoutMs?: number;
}

export interface DeliveryTuning {
  /** QoS 1 messages in flight at most (the broker's receive maximum lowers it); default 32. */
  window?: number;
  /** Readings per telemetry message at most; default 200. */
  batchRecords?: number;
  /** Bytes per message at most, roughly; default 64 KiB (lowered to the broker's maximum packet size). */
  batchBytes?: number;
  /** Backlog replay rate in records per second; default 5000. */
  replayRecordsPerSecond?: number;
  /** Token bucket size in records; default 2 × batchRecords. */
  replayBurst?: number;
  /** Window slots the replay leaves to live data; default a quarter of the window (at least 1 when window > 1). */
  liveReserve?: number;
  /** Live records queued at most while the window is full before they are left to the replay; default 10,000. */
  maxLiveQueue?: number;
  /** How long live telemetry waits for more readings to share its message (events never wait); default 200 ms, 0 sends at once. */
  lingerMs?: number;
  /** A connection whose oldest message has had no PUBACK for this long is dropped and reconnected; default 30 s. */
  ackTimeoutMs?: number;
}

export interface ReconnectTuning {
  /** Default 1 s. */
  minDelayMs?: number;
  /** Default 60 s. */
  maxDelayMs?: number;
  /** A connection that lasted this long resets the back-off; default 30 s. */
  stableAfterMs?: number;
}

export interface UplinkClock {
  stamp(): ClockStamp;
}

export type UplinkTraceEvent =
  | { type: 'connecting'; attempt: number }
  | { type: 'connect-failed'; attempt: number; error: string; retryInMs: number }
  | { type: 'connected'; window: number; backlogThrough: number }
  | { type: 'disconnected'; reason: string; inflightSeqs: number[]; retryInMs: number | null };

export interface ResolvedDelivery {
  window: number;
  batchRecords: number;
  batchBytes: number;
  replayRecordsPerSecond: number;
  replayBurst: number;
  liveReserve: number | undefined;
  maxLiveQueue: number;
  lingerMs: number;
  ackTimeoutMs: number;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`uplink: ${name} must be a whole number ≥ 1 (got ${v})`);
  return v;
}

function nonNegativeInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) throw new Error(`uplink: ${name} must be a whole number ≥ 0 (got ${v})`);
  return v;
}

export function resolveDelivery(tuning: DeliveryTuning = {}): ResolvedDelivery {
  const batchRecords = positiveInt('batchRecords', tuning.batchRecords, 200);
  return {
    window: positiveInt('window', tuning.window, 32),
    batchRecords,
    batchBytes: positiveInt('batchBytes', tuning.batchBytes, 65_536),
    replayRecordsPerSecond: positiveInt('replayRecordsPerSecond', tuning.replayRecordsPerSecond, 5000),
    replayBurst: positiveInt('replayBurst', tuning.replayBurst, 2 * batchRecords),
    liveReserve: tuning.liveReserve,
    maxLiveQueue: positiveInt('maxLiveQueue', tuning.maxLiveQueue, 10_000),
    lingerMs: nonNegativeInt('lingerMs', tuning.lingerMs, 200),
    ackTimeoutMs: positiveInt('ackTimeoutMs', tuning.ackTimeoutMs, 30_000),
  };
}

/** The window after the broker spoke, and the slots reserved for live data within it. */
export function effectiveWindow(resolved: ResolvedDelivery, receiveMaximum: number | undefined): { window: number; liveReserve: number } {
  const window = Math.max(1, Math.min(resolved.window, receiveMaximum ?? Number.MAX_SAFE_INTEGER));
  const wanted = resolved.liveReserve ?? (window > 1 ? Math.max(1, Math.floor(window / 4)) : 0);
  return { window, liveReserve: Math.min(Math.max(0, wanted), window - 1) };
}

/** The broker URL as it may appear in a log: no user info, no query. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparseable broker URL)';
  }
}
