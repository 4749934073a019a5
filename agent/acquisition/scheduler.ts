import type { Reading } from '../../drivers/reading.js';
import type { ReadBlock, TransactionOutcome } from '../../drivers/modbus/outcome.js';
import type { Clock } from '../clock/index.js';
import type { Logger } from '../log/index.js';

/** The part of a bus owner the scheduler needs; a ModbusBus satisfies it. */
export interface BusReader {
  read(deviceId: string, block: ReadBlock, priority: PollPriority): Promise<TransactionOutcome>;
}

export type PollPriority = 'critical' | 'normal' | 'low';

/** The part of a device driver the scheduler needs; a ProfileDevice satisfies it. */
export interface PollableDevice {
  readonly deviceId: string;
  planPoll(channelIds: readonly string[]): { blocks: ReadBlock[]; channelIds: string[] };
  decode(
    plan: { blocks: ReadBlock[]; channelIds: string[]; deviceId: string },
    outcomes: readonly TransactionOutcome[],
    stamp: ReturnType<Clock['stamp']>,
  ): Reading[];
}

export interface ScheduledChannel {
  id: string;
  intervalMs: number;
  /** Interval while the device is accelerated (a warning is active); defaults to intervalMs. */
  fastIntervalMs?: number;
}

export interface ScheduledDevice {
  device: PollableDevice;
  bus: BusReader;
  priority: PollPriority;
  channels: ScheduledChannel[];
}

export interface DevicePollStats {
  polls: number;
  /** Polls skipped because the previous poll of the same channels had not finished (bus saturated). */
  overruns: number;
  accelerated: boolean;
  lastPollMonoTs: number | null;
}

interface PollGroup {
  intervalMs: number;
  channelIds: string[];
  nextDue: number;
  timer: NodeJS.Timeout | undefined;
  inFlight: boolean;
}

interface DeviceState {
  spec: ScheduledDevice;
  groups: PollGroup[];
  accelerated: boolean;
  stats: DevicePollStats;
}

/**
 * Polls every device's channels at their intervals, grouped so channels that share an interval are read in
 * one plan. Readings go to `publish` synchronously when a poll completes. Nothing here waits on anything but
 * the bus; a saturated bus shows up as overruns, never as a growing backlog.
 */
export class PollScheduler {
  private readonly devices = new Map<string, DeviceState>();
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly publish: (readings: Reading[]) => void,
    private readonly logger: Logger,
  ) {}

  addDevice(spec: ScheduledDevice): void {
    const state: DeviceState = {
      spec,
      groups: [],
      accelerated: false,
      stats: { polls: 0, overruns: 0, accelerated: false, lastPollMonoTs: null },
    };
    this.devices.set(spec.device.deviceId, state);
    if (this.running) this.arm(state);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const state of this.devices.values()) this.arm(state);
  }

  stop(): void {
    this.running = false;
    for (const state of this.devices.values()) this.disarm(state);
  }

  /** Switches a device to its accelerated intervals (or back); takes effect at once. */
  setAccelerated(deviceId: string, accelerated: boolean): void {
    const state = this.devices.get(deviceId);
    if (!state || state.accelerated === accelerated) return;
    state.accelerated = accelerated;
    state.stats.accelerated = accelerated;
    if (this.running) {
      this.disarm(state);
      this.arm(state);
    }
  }

  /**
   * Polls every device once now, outside its schedule (a platform's "sample" request). A group already being
   * polled is left alone: its reading is about to arrive anyway. The schedule itself does not move.
   */
  pollNow(): boolean {
    if (!this.running) return false;
    for (const state of this.devices.values()) {
      for (const group of state.groups) {
        if (group.inFlight) continue;
        group.inFlight = true;
        void this.poll(state, group).finally(() => {
          group.inFlight = false;
        });
      }
    }
    return true;
  }

  stats(deviceId: string): DevicePollStats | undefined {
    const state = this.devices.get(deviceId);
    return state ? { ...state.stats } : undefined;
  }

  private arm(state: DeviceState): void {
    const byInterval = new Map<number, string[]>();
    for (const channel of state.spec.channels) {
      const interval = state.accelerated ? (channel.fastIntervalMs ?? channel.intervalMs) : channel.intervalMs;
      const ids = byInterval.get(interval) ?? [];
      ids.push(channel.id);
      byInterval.set(interval, ids);
    }
    const now = this.clock.now();
    state.groups = [...byInterval.entries()]
      .sort(([a], [b]) => a - b)
      .map(([intervalMs, channelIds]) => ({ intervalMs, channelIds, nextDue: now, timer: undefined, inFlight: false }));
    // First poll at once: a gateway that has just started must know the gas level now, not in 30 minutes.
    for (const group of state.groups) this.fire(state, group);
  }

  private disarm(state: DeviceState): void {
    for (const group of state.groups) {
      clearTimeout(group.timer);
      group.timer = undefined;
    }
    state.groups = [];
  }

  private fire(state: DeviceState, group: PollGroup): void {
    if (!this.running || !state.groups.includes(group)) return;
    if (group.inFlight) {
      state.stats.overruns++;
    } else {
      group.inFlight = true;
      void this.poll(state, group).finally(() => {
        group.inFlight = false;
        // Interval 0 means "as fast as the bus allows": chain the next poll to this one's completion.
        if (group.intervalMs === 0) setImmediate(() => this.fire(state, group));
      });
    }
    if (group.intervalMs > 0) this.scheduleNext(state, group);
  }

  private scheduleNext(state: DeviceState, group: PollGroup): void {
    const now = this.clock.now();
    // Fixed-rate on the monotonic clock without catch-up bursts: after a stall, resume from now.
    group.nextDue = Math.max(group.nextDue + group.intervalMs, now);
    group.timer = setTimeout(() => this.fire(state, group), group.nextDue - now);
  }

  private async poll(state: DeviceState, group: PollGroup): Promise<void> {
    const { device, bus, priority } = state.spec;
    try {
      const plan = device.planPoll(group.channelIds);
      const outcomes = await Promise.all(plan.blocks.map((block) => bus.read(device.deviceId, block, priority)));
      const readings = device.decode({ ...plan, deviceId: device.deviceId }, outcomes, this.clock.stamp());
      state.stats.polls++;
      state.stats.lastPollMonoTs = this.clock.now();
      this.publish(readings);
    } catch (error) {
      // A driver bug must not stop polling of this or any other device.
      this.logger.error({ err: error, device: device.deviceId }, 'poll failed');
    }
  }
}
