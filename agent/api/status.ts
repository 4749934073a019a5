import type { Site } from '../../config/schema/index.js';
import type { Quality, QualityReason } from '../../drivers/reading.js';
import type { PollScheduler } from '../acquisition/index.js';
import type { ModbusBus } from '../bus/index.js';
import type { Clock } from '../clock/index.js';
import type { Outbox } from '../outbox/index.js';
import type { LatestReadings } from '../readings/index.js';
import type { AlarmEngine, OutputController, SafetyEvent, SafetyEventLog, SafetyLoop } from '../safety/index.js';
import type { UplinkStats } from '../uplink/index.js';

/**
 * The status snapshot: what the agent knows now, as plain JSON. `vigil status --json`, the terminal dashboard and
 * any local tool read this one shape (docs/local-api.md documents it). Fields are only ever added within a
 * version; a change that removes or changes the meaning of a field bumps STATUS_VERSION.
 */
export const STATUS_VERSION = 1;

/** The alarm state of a channel in one word, the way a technician reads it. */
export type ChannelAlarmState = 'ok' | 'L1' | 'L2' | 'fault' | 'warm-up' | 'blue' | 'yellow' | 'orange' | 'red';

export interface ChannelAlarmStatus {
  state: ChannelAlarmState;
  level: 'normal' | 'L1' | 'L2';
  latched: boolean;
  acknowledged: boolean;
  overRange: boolean;
  fault: boolean;
  faultReason: string | null;
  warmUp: boolean;
  grade: 'blue' | 'yellow' | 'orange' | 'red' | null;
  /** The value held against the setpoints when it is in another unit than the reading (a %vol probe in %LEL). */
  compared: { value: number; unit: string } | null;
  /** Crack channels. */
  displacement: number | null;
  /** How long it has been in this state, ms. */
  sinceMs: number;
}

export interface ChannelStatus {
  id: string;
  /** The device (or "gpio" for a GPIO input). */
  deviceId: string;
  name: string | null;
  /** Null while there is no value: no reading yet, or a reading of bad quality. */
  value: number | null;
  unit: string | null;
  /** Null until the first reading. */
  quality: Quality | null;
  reason: QualityReason | null;
  detail: string | null;
  /** Age of the latest reading, ms (monotonic); null until the first reading. */
  ageMs: number | null;
  /** Wall time of the latest reading, ms UTC, as the gateway believed it. */
  wallTs: number | null;
  /** Null for channels without alarm settings. */
  alarm: ChannelAlarmStatus | null;
}

export interface OutputStatusView {
  id: string;
  name: string | null;
  kind: string;
  /** on / off as last commanded; unknown before the first command (hold at start). */
  state: 'on' | 'off' | 'unknown';
  /** Why, in words: the rule, the fail-safe, a force by someone, an interlock. */
  cause: string;
  ruleWants: boolean;
  override: { state: 'on' | 'off'; by: string; remainingMs: number } | null;
  silenced: boolean;
  /** Read-back of the relay (feedback channel): ok, pending, failed, or none when it has no feedback channel. */
  feedback: 'ok' | 'pending' | 'failed' | 'none';
  /** Whether the writes (and the feedback, where there is one) confirm the command. */
  delivery: 'ok' | 'pending' | 'failed' | 'none';
  lastWriteError: string | null;
  interlock: string | null;
  /** How long it has been on, ms; null when off. */
  onForMs: number | null;
  /**
   * What the relay itself reports: its feedback channel, else the polled coil of a Modbus relay; null when the
   * site polls neither. value 1 = energised.
   */
  readback: { channel: string; value: number | null; quality: Quality | null; ageMs: number | null } | null;
}

export interface DeviceBusStatus {
  id: string;
  unit: number;
  requests: number;
  ok: number;
  timeouts: number;
  crcErrors: number;
  framingErrors: number;
  exceptions: number;
  retries: number;
  breaker: { state: string; consecutiveFailures: number; nextTryInMs: number | null };
  latencyAvgMs: number;
  latencyMaxMs: number;
  /** Polled at its fast interval (a warning is active). */
  accelerated: boolean;
  polls: number;
  overruns: number;
}

export interface BusStatus {
  id: string;
  connected: boolean;
  transactions: number;
  reconnects: number;
  disconnects: number;
  noiseBytes: number;
  queueDepth: number;
  busyRatio: number;
  /** Worked for a second or more without a pause: polls may overrun. */
  saturated: boolean;
  devices: DeviceBusStatus[];
}

export interface UplinkStatus {
  /** disabled: no broker configured (readings are kept in the outbox); else the connection state. */
  state: string;
  connects: number;
  connectFailures: number;
  inflight: number;
  replaying: boolean;
  historicalPending: number;
  commands: { received: number; done: number; refused: number; failed: number };
}

export interface BufferStatus {
  /** Records waiting for the broker's acknowledgement. */
  depth: number;
  bytes: number;
  oldestSeq: number | null;
  /** Wall time of the oldest waiting record, ms UTC; null when none waits or it is not known. */
  oldestWallTs: number | null;
  /** Age of the oldest waiting record, ms, by the wall clock; null when unknown. */
  oldestAgeMs: number | null;
  lastSeq: number;
  ackedThrough: number;
  dropped: { telemetry: number; event: number };
  diskFull: boolean;
  writeError: string | null;
  committedSeq: number;
}

export interface ClockStatus {
  /** Wall time now, ms UTC, and as ISO text. */
  wallTs: number;
  iso: string;
  /** Whether the wall clock is known to be synchronised (NTP); until then wall times may be far off. */
  synced: boolean;
}

/** The agent process's memory, as Node reports it (bytes). The main thread's heap only: the outbox writer thread has its own. */
export interface AgentMemory {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export interface StatusSnapshot {
  version: typeof STATUS_VERSION;
  site: { id: string; name: string; kind: string };
  /** `memory` is absent from agents older than the field: clients must do without it. */
  agent: { version: string; pid: number; uptimeS: number; memory?: AgentMemory };
  clock: ClockStatus;
  safety: { alive: boolean; reason: string | null; lastReadingAgeMs: number | null };
  channels: ChannelStatus[];
  outputs: OutputStatusView[];
  buses: BusStatus[];
  /** Null when the agent runs without an outbox (no data folder and settings). */
  uplink: UplinkStatus | null;
  buffer: BufferStatus | null;
  recentEvents: SafetyEvent[];
}

/** The outbox and the uplink as the agent holds them (its UplinkParts fit). */
export interface BufferSource {
  readonly outbox: Pick<Outbox, 'stats' | 'read'>;
  readonly uplink: { stats(): UplinkStats } | undefined;
}

/** The pieces of a running agent the snapshot is built from (a RunningAgent fits). */
export interface StatusSource {
  readonly site: Site;
  readonly latest: LatestReadings;
  readonly buses: ReadonlyMap<string, ModbusBus>;
  readonly scheduler: PollScheduler;
  readonly clock: Clock;
  readonly alarms: AlarmEngine;
  readonly outputs: OutputController;
  readonly safety: SafetyLoop;
  readonly events: SafetyEventLog;
  readonly uplink: BufferSource | undefined;
}

export interface StatusExtras {
  /** The agent's version. */
  version?: string;
  /** Wall time of the oldest waiting outbox record, read beforehand (reading it is asynchronous). */
  oldestWallTs?: number | null;
  /** How many recent events to include; default 10. */
  recentEvents?: number;
}

function alarmState(status: NonNullable<ReturnType<AlarmEngine['channel']>>): ChannelAlarmState {
  if (status.fault) return 'fault';
  if (status.level !== 'normal') return status.level;
  if (status.grade) return status.grade;
  if (status.warmUp) return 'warm-up';
  return 'ok';
}

/** The channel that shows what an output really is: its feedback channel, else the coil it drives when polled. */
function readbackChannel(site: Site, output: Site['outputs'][number]): string | null {
  if (output.feedback) return output.feedback.channel;
  const coil = output.modbus;
  if (!coil) return null;
  const device = site.devices.find((d) => d.id === coil.device);
  return device?.channels.find((c) => c.register === coil.register)?.id ?? null;
}

function channelList(site: Site): Array<{ id: string; deviceId: string; name: string | null }> {
  return [
    ...site.devices.flatMap((device) => device.channels.map((c) => ({ id: c.id, deviceId: device.id, name: c.name ?? null }))),
    ...(site.gpio?.inputs ?? []).map((input) => ({ id: input.id, deviceId: 'gpio', name: input.name ?? null })),
  ];
}

/** Wall time of the oldest record still waiting in the outbox (one small read), null when none waits. */
export async function oldestWaitingWallTs(parts: BufferSource | undefined): Promise<number | null> {
  if (!parts || parts.outbox.stats().oldestSeq === null) return null;
  const [oldest] = await parts.outbox.read(0, 1, 64 * 1024);
  return oldest ? (oldest.correctedWallTs ?? oldest.wallTs) : null;
}

/** The buffer figures from the outbox's own counters; `oldestWallTs` comes from a read of its oldest record. */
export function bufferStatus(uplink: BufferSource, nowWall: number, oldestWallTs: number | null | undefined): BufferStatus {
  const s = uplink.outbox.stats();
  const oldest = s.oldestSeq === null ? null : (oldestWallTs ?? null);
  return {
    depth: s.records,
    bytes: s.bytes,
    oldestSeq: s.oldestSeq,
    oldestWallTs: oldest,
    oldestAgeMs: oldest === null ? null : Math.max(0, nowWall - oldest),
    lastSeq: s.lastSeq,
    ackedThrough: s.ackedThrough,
    dropped: { ...s.dropped },
    diskFull: s.diskFull,
    writeError: s.writeError,
    committedSeq: s.committedSeq,
  };
}

/** Builds the snapshot from the agent as it is now. Synchronous, no I/O: cheap enough to run every second. */
export function buildStatus(agent: StatusSource, extras: StatusExtras = {}): StatusSnapshot {
  const now = agent.clock.now();
  const wall = Date.now();
  const liveness = agent.safety.liveness();

  const channels = channelList(agent.site).map(({ id, deviceId, name }): ChannelStatus => {
    const reading = agent.latest.get(id);
    const alarm = agent.alarms.channel(id);
    return {
      id,
      deviceId,
      name,
      value: reading?.value ?? null,
      unit: reading?.unit ?? alarm?.unit ?? null,
      quality: reading?.quality ?? null,
      reason: reading?.reason ?? null,
      detail: reading?.detail ?? null,
      ageMs: reading ? Math.max(0, Math.round(now - reading.monoTs)) : null,
      wallTs: reading?.wallTs ?? null,
      alarm: alarm
        ? {
            state: alarmState(alarm),
            level: alarm.level,
            latched: alarm.latched,
            acknowledged: alarm.acknowledged,
            overRange: alarm.overRange,
            fault: alarm.fault,
            faultReason: alarm.faultReason ?? null,
            warmUp: alarm.warmUp,
            grade: alarm.grade,
            compared: alarm.compared ?? null,
            displacement: alarm.displacement ?? null,
            sinceMs: Math.max(0, Math.round(now - alarm.since)),
          }
        : null,
    };
  });

  const configured = new Map(agent.site.outputs.map((o) => [o.id, o]));
  const outputs = agent.outputs.statuses().map((o): OutputStatusView => {
    const config = configured.get(o.outputId);
    const readback = config ? readbackChannel(agent.site, config) : null;
    const seen = readback === null ? undefined : agent.latest.get(readback);
    return {
      id: o.outputId,
      name: config?.name ?? null,
      kind: o.kind,
      state: o.commanded === null ? 'unknown' : o.commanded ? 'on' : 'off',
      cause: o.cause,
      ruleWants: o.ruleWants,
      override: o.override ? { state: o.override.state, by: o.override.by, remainingMs: Math.max(0, Math.round(o.override.remainingMs)) } : null,
      silenced: o.silenced,
      feedback: o.feedback,
      delivery: o.delivery,
      lastWriteError: o.lastWriteError ?? null,
      interlock: o.interlock ?? null,
      onForMs: o.commanded === true && o.onSinceMono !== undefined ? Math.max(0, Math.round(now - o.onSinceMono)) : null,
      readback:
        readback === null
          ? null
          : {
              channel: readback,
              value: seen?.value ?? null,
              quality: seen?.quality ?? null,
              ageMs: seen ? Math.max(0, Math.round(now - seen.monoTs)) : null,
            },
    };
  });

  const buses = [...agent.buses].map(([id, bus]): BusStatus => {
    const c = bus.counters();
    return {
      id,
      connected: c.connected,
      transactions: c.transactions,
      reconnects: c.reconnects,
      disconnects: c.disconnects,
      noiseBytes: c.noiseBytes,
      queueDepth: c.queueDepth,
      busyRatio: c.busyRatio,
      saturated: c.saturated,
      devices: agent.site.devices
        .filter((d) => d.bus === id)
        .map((device): DeviceBusStatus => {
          const d = bus.deviceCounters(device.id);
          const poll = agent.scheduler.stats(device.id);
          return {
            id: device.id,
            unit: device.unit,
            requests: d.requests,
            ok: d.ok,
            timeouts: d.timeouts,
            crcErrors: d.crcErrors,
            framingErrors: d.framingErrors,
            exceptions: d.exceptions,
            retries: d.retries,
            breaker: { state: d.breaker.state, consecutiveFailures: d.breaker.consecutiveFailures, nextTryInMs: d.breaker.nextTryInMs },
            latencyAvgMs: d.latency.avgMs,
            latencyMaxMs: d.latency.maxMs,
            accelerated: poll?.accelerated ?? false,
            polls: poll?.polls ?? 0,
            overruns: poll?.overruns ?? 0,
          };
        }),
    };
  });

  const parts = agent.uplink;
  const link = parts?.uplink?.stats();
  const uplink: UplinkStatus | null = parts
    ? {
        state: link ? link.state : 'disabled',
        connects: link?.connects ?? 0,
        connectFailures: link?.connectFailures ?? 0,
        inflight: link?.inflight ?? 0,
        replaying: link?.replaying ?? false,
        historicalPending: link?.historicalPending ?? 0,
        commands: {
          received: link?.commands.received ?? 0,
          done: link?.commands.done ?? 0,
          refused: link?.commands.refused ?? 0,
          failed: link?.commands.failed ?? 0,
        },
      }
    : null;

  return {
    version: STATUS_VERSION,
    site: { id: agent.site.site.id, name: agent.site.site.name, kind: agent.site.site.kind },
    agent: { version: extras.version ?? '0.0.0', pid: process.pid, uptimeS: Math.round(process.uptime()), memory: agentMemory() },
    clock: { wallTs: wall, iso: new Date(wall).toISOString(), synced: agent.clock.synced },
    safety: {
      alive: liveness.alive,
      reason: liveness.reason ?? null,
      lastReadingAgeMs: liveness.lastReadingsMonoTs === null ? null : Math.max(0, Math.round(now - liveness.lastReadingsMonoTs)),
    },
    channels,
    outputs,
    buses,
    uplink,
    buffer: parts ? bufferStatus(parts, wall, extras.oldestWallTs) : null,
    recentEvents: agent.events.recent(extras.recentEvents ?? 10),
  };
}

function agentMemory(): AgentMemory {
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, heapTotalBytes: usage.heapTotal, externalBytes: usage.external };
}
