import type { Logger } from '../log/index.js';
import { defaultNotifyTransport, type NotifyTransport } from './notify-transport.js';

/** What the service manager told this process through its environment (sd_notify(3), sd_watchdog_enabled(3)). */
export interface ServiceEnvironment {
  /** NOTIFY_SOCKET: where notifications go. */
  socket: string;
  /** Half of WATCHDOG_USEC: how often to feed the watchdog; undefined when no watchdog applies to this process. */
  watchdogIntervalMs: number | undefined;
}

/** Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID; undefined when not started by a notify-aware manager. */
export function serviceEnvironment(env: NodeJS.ProcessEnv, pid: number = process.pid): ServiceEnvironment | undefined {
  const socket = env.NOTIFY_SOCKET;
  if (!socket || !(socket.startsWith('/') || socket.startsWith('@'))) return undefined;
  const usec = Number(env.WATCHDOG_USEC);
  // WATCHDOG_PID names the process the watchdog is meant for: another one (a wrapper's child) must not feed it.
  const forUs = env.WATCHDOG_PID === undefined || env.WATCHDOG_PID === '' || Number(env.WATCHDOG_PID) === pid;
  const watchdogIntervalMs = Number.isFinite(usec) && usec > 0 && forUs ? Math.max(1, Math.floor(usec / 2000)) : undefined;
  return { socket, watchdogIntervalMs };
}

/**
 * Sends READY / STATUS / WATCHDOG / STOPPING notifications one at a time. A watchdog ping while another message
 * is still on its way is dropped rather than queued: a backlog of stale pings would prove nothing. A failed send
 * is logged once per run of failures and never thrown: notifications must not disturb the agent.
 */
export class ServiceNotifier {
  private chain: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  private failing = false;

  constructor(
    readonly transport: NotifyTransport,
    private readonly logger: Logger,
  ) {}

  ready(status: string): Promise<boolean> {
    return this.send(['READY=1', `STATUS=${oneLine(status)}`]);
  }

  status(status: string): Promise<boolean> {
    return this.send([`STATUS=${oneLine(status)}`]);
  }

  /** A keep-alive; false when skipped (a message still in flight) or failed. */
  watchdog(): Promise<boolean> {
    if (this.inFlight > 0) return Promise.resolve(false);
    return this.send(['WATCHDOG=1']);
  }

  stopping(status: string): Promise<boolean> {
    return this.send(['STOPPING=1', `STATUS=${oneLine(status)}`]);
  }

  /** Resolves once every message handed over so far has been sent (or has failed). */
  async settled(): Promise<void> {
    await this.chain;
  }

  private send(assignments: readonly string[]): Promise<boolean> {
    this.inFlight += 1;
    const sent = this.chain.then(() =>
      this.transport.send(assignments).then(
        () => {
          if (this.failing) this.logger.info({ via: this.transport.name }, 'service manager notifications get through again');
          this.failing = false;
          return true;
        },
        (error: unknown) => {
          if (!this.failing) this.logger.warn({ err: error, via: this.transport.name }, 'could not notify the service manager');
          this.failing = true;
          return false;
        },
      ),
    );
    this.chain = sent.finally(() => (this.inFlight -= 1));
    return sent;
  }
}

/** STATUS= ends at a newline (the next assignment would start there). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 200);
}

/** A notifier for this process, or undefined when no manager listens or no tool can reach it (logged). */
export function notifierFromEnvironment(env: ServiceEnvironment, logger: Logger, transport?: NotifyTransport): ServiceNotifier | undefined {
  const chosen = transport ?? defaultNotifyTransport(env.socket);
  if (!chosen) {
    logger.error(
      { socket: env.socket },
      'NOTIFY_SOCKET is set but neither systemd-notify nor socat is installed: the service manager will not see the agent start',
    );
    return undefined;
  }
  return new ServiceNotifier(chosen, logger);
}
