export interface BreakerSettings {
  /** Consecutive failed reads that open the breaker. */
  failures: number;
  /** First back-off after opening, ms. */
  minBackoff: number;
  /** The back-off doubles on every failed probe up to this, ms. */
  maxBackoff: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerStatus {
  state: BreakerState;
  consecutiveFailures: number;
  /** The current back-off (what the next opening or failed probe waits), ms. */
  backoffMs: number;
  /** When open: ms until a probe read is let through (0 = the next read is the probe). Otherwise null. */
  nextTryInMs: number | null;
}

/**
 * Per-device circuit breaker, so that a dead device costs a probe per back-off instead of a timeout per poll
 * (a 1 s timeout at 9600 baud is 20–40 good reads of the other devices). Time is passed in (monotonic ms).
 */
export class Breaker {
  private current: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private backoffMs: number;
  private nextTryAt = 0;

  constructor(private readonly settings: BreakerSettings) {
    if (!(settings.failures >= 1)) throw new Error(`breaker failures must be at least 1 (got ${settings.failures})`);
    if (!(settings.minBackoff > 0) || !(settings.maxBackoff >= settings.minBackoff)) {
      throw new Error(`breaker needs 0 < minBackoff <= maxBackoff (got ${settings.minBackoff}, ${settings.maxBackoff})`);
    }
    this.backoffMs = settings.minBackoff;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a read must be refused without touching the wire. */
  rejects(now: number): boolean {
    return this.current === 'half-open' || (this.current === 'open' && now < this.nextTryAt);
  }

  /** A read goes on the wire. Returns true when it is the probe of a half-open breaker. */
  beginRead(): boolean {
    if (this.current !== 'open') return false;
    this.current = 'half-open';
    return true;
  }

  /** The probe never got its answer or failure (port lost, bus stopped): let the next read probe instead. */
  abandonProbe(): void {
    if (this.current === 'half-open') this.current = 'open';
  }

  /** The device answered (a value or a Modbus exception: either way it is alive). Returns true if this closed it. */
  recordAnswer(): boolean {
    this.consecutiveFailures = 0;
    if (this.current === 'closed') return false;
    this.current = 'closed';
    this.backoffMs = this.settings.minBackoff;
    return true;
  }

  /** A read failed for good (after its retries). Returns true if this opened the breaker (again). */
  recordFailure(now: number): boolean {
    this.consecutiveFailures++;
    if (this.current === 'half-open') {
      this.backoffMs = Math.min(this.backoffMs * 2, this.settings.maxBackoff);
    } else if (this.current !== 'closed' || this.consecutiveFailures < this.settings.failures) {
      return false;
    }
    this.current = 'open';
    this.nextTryAt = now + this.backoffMs;
    return true;
  }

  status(now: number): BreakerStatus {
    return {
      state: this.current,
      consecutiveFailures: this.consecutiveFailures,
      backoffMs: this.backoffMs,
      nextTryInMs: this.current === 'open' ? Math.max(0, Math.ceil(this.nextTryAt - now)) : null,
    };
  }

  /** Why a read was refused, for the outcome's detail. */
  describeRefusal(now: number): string {
    if (this.current === 'half-open') return 'device not answering; a probe read is in progress';
    return `device not answering; next try in ${formatWait(this.nextTryAt - now)}`;
  }
}

function formatWait(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))} ms`;
  const seconds = ms / 1000;
  return seconds < 10 ? `${seconds.toFixed(1)} s` : `${Math.ceil(seconds)} s`;
}
