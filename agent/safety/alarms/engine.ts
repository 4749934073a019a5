import type { Site } from '../../../config/schema/index.js';
import type { Reading } from '../../../drivers/reading.js';
import type { Clock } from '../../clock/index.js';
import type { SafetyEvent, SafetyEventSink } from '../events.js';
import { ChannelMonitor, type EventDraft, type MonitorContext } from './channel.js';
import type { AlarmSnapshot } from './snapshot.js';
import { DEFAULT_FAULT_AFTER, WARM_UP_LIMIT_MS, channelSpecs, type ChannelSpec } from './spec.js';
import type { ChannelSafetyStatus } from './status.js';

export interface AlarmEngineOptions {
  site: Site;
  clock: Clock;
  emit: SafetyEventSink;
  /** What snapshot() returned before the restart (checked with parseAlarmSnapshot when read from disk). */
  restore?: AlarmSnapshot;
}

/**
 * Channels that appear in readings but not among the site's devices (GPIO inputs, say) are followed for faults
 * only; this many at most, so a stream of made-up channel ids cannot grow the engine without bound.
 */
const MAX_UNLISTED_CHANNELS = 1000;

/**
 * The local alarm decisions of a gateway, per channel: gas and level alarms (L1/L2 with deadband, delays,
 * latch), faults, warm-up, over-range, crack-gauge grades and accelerated polling.
 *
 * Pure and synchronous: no timers and no I/O. The caller hands in every poll's readings (`onReadings`) and
 * calls `tick()` periodically (about once a second) so time-based delays and stuck and silent detection
 * advance without new samples. All time comes from the clock; every decision is an event.
 */
export class AlarmEngine {
  private readonly clock: Clock;
  private readonly sink: SafetyEventSink;
  private readonly monitors = new Map<string, ChannelMonitor>();
  private readonly ordered: ChannelMonitor[] = [];
  private readonly context: MonitorContext;
  private unlisted = 0;
  private accelerated: ReadonlySet<string> = new Set();
  private accelerationStale = true;
  private sinkError: { error: unknown } | undefined;

  constructor(options: AlarmEngineOptions) {
    this.clock = options.clock;
    this.sink = options.emit;
    this.context = {
      emit: (draft) => this.emit(draft),
      accelerationChanged: () => {
        this.accelerationStale = true;
      },
    };
    const now = this.clock.now();
    for (const spec of channelSpecs(options.site)) this.add(spec, now);
    if (options.restore) this.restore(options.restore, now);
    this.rethrowSinkError();
  }

  /** The hot path: one call per poll, synchronous; allocates only when something changes. */
  onReadings(readings: readonly Reading[]): void {
    const now = this.clock.now();
    for (const reading of readings) {
      const monitor = this.monitors.get(reading.channelId) ?? this.addUnlisted(reading, now);
      monitor?.onReading(reading, now);
    }
    this.rethrowSinkError();
  }

  /**
   * Delays by time, stuck and silent detection. Crack windows end at their latest sample and need no tick:
   * a gauge whose readings stop goes to fault (silent) and keeps its grade, as any fault does.
   */
  tick(): void {
    const now = this.clock.now();
    for (const monitor of this.ordered) monitor.tick(now);
    this.rethrowSinkError();
  }

  channel(channelId: string): ChannelSafetyStatus | undefined {
    return this.monitors.get(channelId)?.status();
  }

  channels(): ChannelSafetyStatus[] {
    return this.ordered.map((monitor) => monitor.status());
  }

  /** Records who saw it; a latched level whose value is already back below L1 clears now. */
  acknowledge(channelId: string | '*', by: string): { acknowledged: string[] } {
    const now = this.clock.now();
    const acknowledged: string[] = [];
    for (const monitor of this.targets(channelId)) if (monitor.acknowledge(by, now)) acknowledged.push(monitor.channelId);
    this.rethrowSinkError();
    return { acknowledged };
  }

  /**
   * Acknowledges and clears latched levels, but only where a good current reading shows the condition has gone;
   * refused (with the reason) while it still holds, or while the probe is in fault or warming up. With '*',
   * channels with nothing latched are passed over silently.
   */
  reset(channelId: string | '*', by: string): { reset: string[]; refused: Array<{ channelId: string; why: string }> } {
    const now = this.clock.now();
    const reset: string[] = [];
    const refused: Array<{ channelId: string; why: string }> = [];
    if (channelId !== '*' && !this.monitors.has(channelId)) {
      refused.push({ channelId, why: 'no such channel' });
      return { reset, refused };
    }
    for (const monitor of this.targets(channelId)) {
      if (channelId === '*' && !monitor.hasLatch()) continue;
      const result = monitor.reset(by, now);
      if (result.ok) reset.push(monitor.channelId);
      else refused.push({ channelId: monitor.channelId, why: result.why });
    }
    this.rethrowSinkError();
    return { reset, refused };
  }

  /** Re-sets a crack gauge's baseline (R0/T0) to its current value, or to `value` (mm). */
  setBaseline(channelId: string, by: string, value?: number): { ok: true; baseline: number } | { ok: false; error: string } {
    const monitor = this.monitors.get(channelId);
    if (!monitor) return { ok: false, error: `no channel "${channelId}"` };
    const result = monitor.setBaseline(by, value, this.clock.now());
    this.rethrowSinkError();
    return result;
  }

  /**
   * Devices that should poll at their fast interval now: those of channels with a raised level or a crack grade
   * (or the channel's configured `accelerate` devices instead). The same Set is returned until it changes, so a
   * caller can compare by identity after each poll.
   */
  acceleratedDevices(): ReadonlySet<string> {
    if (this.accelerationStale) {
      this.accelerationStale = false;
      const devices = new Set<string>();
      for (const monitor of this.ordered) {
        const { alarm, crack } = monitor.spec;
        if (monitor.raisedLevel() !== undefined) for (const id of alarm?.accelerate ?? [monitor.deviceId]) devices.add(id);
        if (monitor.crack && monitor.crack.rank > 0) for (const id of crack?.accelerate ?? [monitor.deviceId]) devices.add(id);
      }
      if (!sameMembers(devices, this.accelerated)) this.accelerated = devices;
    }
    return this.accelerated;
  }

  /** JSON-serialisable: latched levels and acknowledgements, baselines, crack grades and history. */
  snapshot(): AlarmSnapshot {
    const now = this.clock.now();
    const stamp = this.clock.stamp();
    const channels: AlarmSnapshot['channels'] = {};
    const baselined: string[] = [];
    for (const monitor of this.ordered) {
      const entry = monitor.snapshot(now);
      if (entry) channels[monitor.channelId] = entry;
      if (monitor.keepsBaseline()) baselined.push(monitor.channelId);
    }
    return { version: 1, takenAt: { wallTs: stamp.wallTs, clockSynced: stamp.clockSynced }, channels, baselined };
  }

  // ------------------------------------------------------------------------------------------------------------

  private add(spec: ChannelSpec, now: number): ChannelMonitor {
    const monitor = new ChannelMonitor(spec, this.context, now);
    this.monitors.set(spec.channelId, monitor);
    this.ordered.push(monitor);
    return monitor;
  }

  private addUnlisted(reading: Reading, now: number): ChannelMonitor | undefined {
    if (this.unlisted >= MAX_UNLISTED_CHANNELS) return undefined;
    this.unlisted++;
    return this.add(
      {
        channelId: reading.channelId,
        deviceId: reading.deviceId,
        unit: reading.unit,
        faultAfter: DEFAULT_FAULT_AFTER,
        // Its interval is not known here: silence is for whoever produces it to notice.
        silentAfterMs: Number.POSITIVE_INFINITY,
        maxWarmUpMs: WARM_UP_LIMIT_MS,
        problems: [],
      },
      now,
    );
  }

  private targets(channelId: string | '*'): readonly ChannelMonitor[] {
    if (channelId === '*') return this.ordered;
    const monitor = this.monitors.get(channelId);
    return monitor ? [monitor] : [];
  }

  /**
   * Wall time says how long the gateway was down only when it was synchronised both before and now; otherwise
   * the downtime is taken as zero, which makes a crack rate across the restart come out higher, never lower.
   */
  private restore(snapshot: AlarmSnapshot, now: number): void {
    const stamp = this.clock.stamp();
    const wallGap = stamp.wallTs - snapshot.takenAt.wallTs;
    const downtime = snapshot.takenAt.clockSynced && stamp.clockSynced && wallGap > 0 ? wallGap : 0;
    for (const [channelId, entry] of Object.entries(snapshot.channels)) {
      this.monitors.get(channelId)?.restore(entry, now, downtime);
    }
    // A gauge that had a baseline before, and whose entry did not come back, lost it: it must not re-zero on its
    // next reading as if it were new. A gauge not listed (new to the site, or an older snapshot) takes its first.
    for (const channelId of snapshot.baselined ?? []) {
      const entry = Object.hasOwn(snapshot.channels, channelId) ? snapshot.channels[channelId] : undefined;
      if (!entry?.baseline) this.monitors.get(channelId)?.baselineLost(now);
    }
  }

  /**
   * The sink is someone else's code: if it throws, the state machines still finish the change they were making
   * and the remaining events are still offered; the first error is rethrown when the call ends.
   */
  private emit(draft: EventDraft): void {
    const event: SafetyEvent = { ...draft, ...this.clock.stamp() };
    try {
      this.sink(event);
    } catch (error) {
      this.sinkError ??= { error };
    }
  }

  private rethrowSinkError(): void {
    const failure = this.sinkError;
    if (!failure) return;
    this.sinkError = undefined;
    throw failure.error;
  }
}

function sameMembers(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}
