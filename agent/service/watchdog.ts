import type { Logger } from '../log/index.js';
import type { SafetyLiveness } from '../safety/index.js';
import type { ServiceNotifier } from './notifier.js';

export interface WatchdogFeederOptions {
  notifier: ServiceNotifier;
  /** How often to feed: half the manager's watchdog time. */
  intervalMs: number;
  /** The safety loop's own judgement; undefined while no agent runs (between a config push's stop and start). */
  liveness: () => SafetyLiveness | undefined;
  logger: Logger;
}

/**
 * Feeds the service manager's watchdog only while the safety loop says it is alive. A timer alone would prove
 * only that the event loop turns; the safety loop's liveness also needs fresh readings from the field loop
 * (agent/safety/loop.ts), so a poll scheduler that stopped cycling stops the feeding while everything else
 * looks busy. A device that is silent is not a stall: its timeouts are readings too (quality bad).
 * While the agent is stopping the feeding goes on unconditionally: the stop is bounded by the unit's
 * TimeoutStopSec, and a watchdog kill in the middle would cut short the outputs' shutdown writes.
 */
export class WatchdogFeeder {
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private lastAlive = true;

  constructor(private readonly options: WatchdogFeederOptions) {}

  start(): void {
    if (this.timer) return;
    this.feed();
    this.timer = setInterval(() => this.feed(), this.options.intervalMs);
  }

  /** From now on: feed regardless of the safety loop, until close(). */
  stoppingNow(): void {
    this.stopping = true;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private feed(): void {
    const { notifier, logger } = this.options;
    if (this.stopping) {
      void notifier.watchdog();
      return;
    }
    const liveness = this.options.liveness();
    const alive = liveness?.alive === true;
    // The ping first: a status update queued ahead of it would make the ping be skipped as "in flight".
    if (alive) void notifier.watchdog();
    if (alive === this.lastAlive) return;
    this.lastAlive = alive;
    if (alive) {
      logger.info('safety loop alive: feeding the service watchdog again');
      void notifier.status('running');
    } else {
      const reason = liveness?.reason ?? 'no agent running';
      logger.error({ reason }, 'safety loop not alive: the service watchdog is no longer fed');
      void notifier.status(`not alive: ${reason}`);
    }
  }
}
