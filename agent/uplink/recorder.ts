import type { Reading } from '../../drivers/reading.js';
import type { SafetyEvent } from '../safety/events.js';
import type { OutboxAppender } from './outbox-port.js';
import type { TelemetryPayload } from './payloads.js';

/**
 * What of a channel goes to the platform. A reading is recorded when it is the channel's first, when its
 * quality or reason changed, when its value moved beyond the deadband from the last recorded value, or when
 * the heartbeat interval has passed since the last recorded one (the accelerated interval while the channel's
 * device is accelerated). Intervals are measured on the monotonic clock.
 */
export interface ReportingPolicy {
  /** Record when |value − last recorded value| exceeds this, in the channel's unit; 0 = any change. */
  deadband: number;
  /** Record at least this often even without change (heartbeat), in ms. */
  maxIntervalMs: number;
  /** The heartbeat while the device is accelerated (a warning is active), in ms; 0 = every reading. */
  acceleratedIntervalMs: number;
}

export const DEFAULT_REPORTING: ReportingPolicy = { deadband: 0, maxIntervalMs: 300_000, acceleratedIntervalMs: 0 };

export interface RecorderChannel {
  id: string;
  /** The platform's indicator code of the channel (unified indicator system). */
  indicator?: string;
  policy?: Partial<ReportingPolicy>;
}

export interface RecorderOptions {
  outbox: OutboxAppender;
  channels?: readonly RecorderChannel[];
  /** Policy for channels that do not set their own (merged over DEFAULT_REPORTING). */
  defaultPolicy?: Partial<ReportingPolicy>;
  /** Whether a device is accelerated now (PollScheduler.stats(id)?.accelerated). */
  isAccelerated?: (deviceId: string) => boolean;
  /** An append that threw (the outbox counts its own drops; this is for the unexpected). */
  onError?: (error: unknown) => void;
}

export interface RecorderStats {
  readings: number;
  recorded: number;
  suppressed: number;
  events: number;
  appendErrors: number;
}

interface Last {
  value: number | null;
  quality: Reading['quality'];
  reason: Reading['reason'];
  monoTs: number;
}

/** A reading source and an event source, as the agent has them (ReadingStream, SafetyEventLog). */
export interface RecorderSources {
  readings?: { subscribe(listener: (readings: readonly Reading[]) => void): () => void };
  events?: { subscribe(listener: (event: SafetyEvent) => void): () => void };
}

function validPolicy(channelId: string, policy: ReportingPolicy): ReportingPolicy {
  const bad = (['deadband', 'maxIntervalMs', 'acceleratedIntervalMs'] as const).filter((k) => !(Number.isFinite(policy[k]) && policy[k] >= 0));
  if (bad.length > 0) throw new Error(`reporting policy of ${channelId}: ${bad.join(', ')} must be a number ≥ 0`);
  return policy;
}

/**
 * Puts readings (filtered by the reporting policy) and every safety event into the outbox. Synchronous and
 * cheap: append never waits on the disk, and a failing append is counted, never thrown into the reading stream.
 */
export class Recorder {
  private readonly policies = new Map<string, ReportingPolicy>();
  private readonly indicators = new Map<string, string>();
  private readonly defaultPolicy: ReportingPolicy;
  private readonly last = new Map<string, Last>();
  private readonly counts: RecorderStats = { readings: 0, recorded: 0, suppressed: 0, events: 0, appendErrors: 0 };

  constructor(private readonly options: RecorderOptions) {
    this.defaultPolicy = validPolicy('(default)', { ...DEFAULT_REPORTING, ...options.defaultPolicy });
    for (const channel of options.channels ?? []) {
      if (channel.policy) this.policies.set(channel.id, validPolicy(channel.id, { ...this.defaultPolicy, ...channel.policy }));
      if (channel.indicator !== undefined) this.indicators.set(channel.id, channel.indicator);
    }
  }

  /** Subscribes to the sources; returns the unsubscribe. */
  attach(sources: RecorderSources): () => void {
    const offs = [sources.readings?.subscribe((readings) => this.onReadings(readings)), sources.events?.subscribe((event) => this.onEvent(event))];
    return () => offs.forEach((off) => off?.());
  }

  onReadings(readings: readonly Reading[]): void {
    for (const reading of readings) {
      this.counts.readings++;
      if (this.shouldRecord(reading)) this.record(reading);
      else this.counts.suppressed++;
    }
  }

  onEvent(event: SafetyEvent): void {
    this.counts.events++;
    this.append(() => this.options.outbox.append('event', event, { wallTs: event.wallTs, monoTs: event.monoTs, clockSynced: event.clockSynced }));
  }

  stats(): RecorderStats {
    return { ...this.counts };
  }

  policyOf(channelId: string): ReportingPolicy {
    return this.policies.get(channelId) ?? this.defaultPolicy;
  }

  private shouldRecord(reading: Reading): boolean {
    const last = this.last.get(reading.channelId);
    if (!last) return true;
    if (reading.quality !== last.quality || reading.reason !== last.reason) return true;
    const policy = this.policyOf(reading.channelId);
    const accelerated = this.options.isAccelerated?.(reading.deviceId) ?? false;
    const heartbeat = accelerated ? policy.acceleratedIntervalMs : policy.maxIntervalMs;
    if (reading.monoTs - last.monoTs >= heartbeat) return true;
    if (reading.value === null || last.value === null) return reading.value !== last.value;
    const delta = Math.abs(reading.value - last.value);
    return policy.deadband === 0 ? delta > 0 : delta > policy.deadband;
  }

  private record(reading: Reading): void {
    const indicator = this.indicators.get(reading.channelId);
    const payload: TelemetryPayload = {
      channelId: reading.channelId,
      deviceId: reading.deviceId,
      ...(indicator === undefined ? {} : { indicator }),
      value: reading.value,
      unit: reading.unit,
      quality: reading.quality,
      ...(reading.reason === undefined ? {} : { reason: reading.reason }),
      ...(reading.detail === undefined ? {} : { detail: reading.detail }),
    };
    const ok = this.append(() =>
      this.options.outbox.append('telemetry', payload, { wallTs: reading.wallTs, monoTs: reading.monoTs, clockSynced: reading.clockSynced }),
    );
    if (!ok) return;
    this.counts.recorded++;
    this.last.set(reading.channelId, { value: reading.value, quality: reading.quality, reason: reading.reason, monoTs: reading.monoTs });
  }

  private append(write: () => unknown): boolean {
    try {
      write();
      return true;
    } catch (error) {
      this.counts.appendErrors++;
      try {
        this.options.onError?.(error);
      } catch {
        // nothing from here may reach the reading stream
      }
      return false;
    }
  }
}
