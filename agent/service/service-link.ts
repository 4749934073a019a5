import type { Logger } from '../log/index.js';
import type { SafetyLiveness } from '../safety/index.js';
import { notifierFromEnvironment, serviceEnvironment, type ServiceNotifier } from './notifier.js';
import type { NotifyTransport } from './notify-transport.js';
import { WatchdogFeeder } from './watchdog.js';

export interface ServiceLinkOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The running agent's safety loop liveness (undefined while none runs). */
  liveness: () => SafetyLiveness | undefined;
  /** One line for `systemctl status` once ready, e.g. "3 devices on 1 bus". */
  summary: () => string;
  /** Replaces the tool-based transport (tests that capture notifications in memory). */
  transport?: NotifyTransport;
  /** READY=1 is sent at the first readings, or after this long if none came (the watchdog then judges). */
  readyWithinMs?: number;
  /** How often readiness is checked. */
  checkEveryMs?: number;
}

/** The agent as a systemd service (Type=notify): ready, watchdog, stopping. */
export interface ServiceLink {
  readonly notifier: ServiceNotifier;
  /** Resolves once READY=1 has been handed to the manager. */
  readonly ready: Promise<void>;
  /** STOPPING=1; the watchdog is fed regardless of the safety loop until close(). */
  stopping(reason: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Links a running agent to its service manager when NOTIFY_SOCKET is set (undefined otherwise). READY=1 waits
 * for the safety loop's first tick and the first readings through it, so `systemctl start` returning means the
 * gateway polls and decides.
 */
export function startServiceLink(options: ServiceLinkOptions): ServiceLink | undefined {
  const environment = serviceEnvironment(options.env);
  if (!environment) return undefined;
  const { logger } = options;
  const notifier = notifierFromEnvironment(environment, logger, options.transport);
  if (!notifier) return undefined;

  const feeder =
    environment.watchdogIntervalMs === undefined
      ? undefined
      : new WatchdogFeeder({ notifier, intervalMs: environment.watchdogIntervalMs, liveness: options.liveness, logger });
  let readyTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const readyWithinMs = options.readyWithinMs ?? 30_000;
  const startedAt = Date.now();

  const ready = new Promise<void>((resolve) => {
    const check = (): void => {
      if (closed) return resolve();
      // Up means both: the safety timers have run and the first readings have passed through the loop.
      const liveness = options.liveness();
      const polled = liveness?.lastReadingsMonoTs != null && liveness.lastTickMonoTs != null;
      const waited = Date.now() - startedAt >= readyWithinMs;
      if (!polled && !waited) {
        readyTimer = setTimeout(check, options.checkEveryMs ?? 100);
        return;
      }
      const status = polled ? `running: ${options.summary()}` : `running, no readings yet: ${options.summary()}`;
      void notifier.ready(status).then(() => {
        logger.info({ via: notifier.transport.name, watchdogMs: environment.watchdogIntervalMs === undefined ? null : environment.watchdogIntervalMs * 2 }, 'service manager told: ready');
        resolve();
      });
      feeder?.start();
    };
    check();
  });

  return {
    notifier,
    ready,
    async stopping(reason) {
      clearTimeout(readyTimer);
      feeder?.stoppingNow();
      await notifier.stopping(`stopping: ${reason}`);
    },
    async close() {
      closed = true;
      clearTimeout(readyTimer);
      feeder?.close();
      await notifier.settled();
    },
  };
}
