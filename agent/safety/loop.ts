import type { Reading } from '../../drivers/reading.js';
import type { Clock } from '../clock/index.js';
import type { Logger } from '../log/index.js';
import type { AlarmEngine } from './alarms/index.js';
import type { OutputController } from './outputs/index.js';

const PERIODIC_SAVE_MS = 60_000;

export interface SafetyLoopOptions {
  clock: Clock;
  logger: Logger;
  alarms: AlarmEngine;
  outputs: OutputController;
  /** Switches a device between its normal and accelerated poll intervals. */
  accelerate: (deviceId: string, accelerated: boolean) => void;
  /** Called after anything that changes persisted state (latches, outputs, baselines). */
  stateChanged: () => void;
  /** Timers (delays, min on/off, overrides, feedback) are checked this often. */
  tickMs?: number;
  /** With no readings at all for this long, the field loop counts as stalled. */
  stallAfterMs: number;
}

export interface SafetyLiveness {
  alive: boolean;
  /** Why not, when not alive. */
  reason?: string;
  lastReadingsMonoTs: number | null;
  lastTickMonoTs: number | null;
}

/**
 * reading → rule → output, synchronously, in the process that polls. Nothing here waits on disk, network or
 * logging: outputs are commanded fire-and-forget (a relay write goes to the front of its bus queue), state is
 * only marked dirty, and the timers that need no reading run on a short tick.
 */
export class SafetyLoop {
  private readonly accelerated = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastReadings: number | null = null;
  private lastTick: number | null = null;
  private readonly tickMs: number;
  private readonly startedAt: number;
  private wasAlive = true;
  private lastPeriodicSave: number;

  constructor(private readonly options: SafetyLoopOptions) {
    this.tickMs = options.tickMs ?? 250;
    this.startedAt = options.clock.now();
    this.lastPeriodicSave = this.startedAt;
  }

  /** The hot path: one poll's readings. */
  onReadings(readings: readonly Reading[]): void {
    this.lastReadings = this.options.clock.now();
    this.options.alarms.onReadings(readings);
    this.options.outputs.evaluate();
    this.syncAcceleration();
  }

  start(): void {
    this.options.outputs.start();
    this.options.outputs.setHealthy(true);
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  /** Outputs to their shutdown states ("hold" or "safe"); the healthy output drops. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.outputs.setHealthy(false);
    await this.options.outputs.shutdown();
    this.options.stateChanged();
  }

  liveness(): SafetyLiveness {
    const now = this.options.clock.now();
    const base = { lastReadingsMonoTs: this.lastReadings, lastTickMonoTs: this.lastTick };
    if (this.lastTick === null || now - this.lastTick > this.tickMs * 4 + 1000) {
      return { ...base, alive: false, reason: 'safety timers have not run' };
    }
    // Before the first poll completes, the start itself is the reference.
    const since = this.lastReadings ?? this.startedAt;
    if (now - since > this.options.stallAfterMs) {
      return { ...base, alive: false, reason: `no readings for ${Math.round((now - since) / 1000)} s: the field loop is stalled` };
    }
    return { ...base, alive: true };
  }


  private tick(): void {
    this.lastTick = this.options.clock.now();
    this.options.alarms.tick();
    this.options.outputs.evaluate();
    this.syncAcceleration();
    const liveness = this.liveness();
    if (liveness.alive !== this.wasAlive) {
      this.wasAlive = liveness.alive;
      if (liveness.alive) this.options.logger.info('safety loop alive again');
      else this.options.logger.error({ reason: liveness.reason }, 'safety loop stalled: healthy output dropped');
    }
    this.options.outputs.setHealthy(liveness.alive);
    // Crack history and counters change without events; save them now and then so a restart loses little.
    if (this.lastTick - this.lastPeriodicSave >= PERIODIC_SAVE_MS) {
      this.lastPeriodicSave = this.lastTick;
      this.options.stateChanged();
    }
  }

  private syncAcceleration(): void {
    const wanted = this.options.alarms.acceleratedDevices();
    let changed = false;
    for (const deviceId of wanted) {
      if (!this.accelerated.has(deviceId)) {
        this.accelerated.add(deviceId);
        this.options.accelerate(deviceId, true);
        changed = true;
      }
    }
    for (const deviceId of [...this.accelerated]) {
      if (!wanted.has(deviceId)) {
        this.accelerated.delete(deviceId);
        this.options.accelerate(deviceId, false);
        changed = true;
      }
    }
    if (changed) this.options.stateChanged();
  }
}
