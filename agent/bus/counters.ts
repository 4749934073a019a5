import type { TransactionOutcome } from '../../drivers/modbus/outcome.js';
import type { BreakerStatus } from './breaker.js';

/** From writing the request to receiving a valid answer, ms. All 0 until the first valid answer (see `ok`). */
export interface LatencyStats {
  lastMs: number;
  avgMs: number;
  maxMs: number;
}

export interface DeviceCounters {
  /** Transactions put on the wire for this device, retries included. */
  requests: number;
  ok: number;
  timeouts: number;
  crcErrors: number;
  framingErrors: number;
  exceptions: number;
  /** Read transactions repeated after a timeout, CRC or framing failure. */
  retries: number;
  /** Jobs answered port-down (link lost, bus stopped or not yet connected). */
  portDown: number;
  /** Reads refused by the open breaker without touching the wire. */
  breakerRejections: number;
  breaker: BreakerStatus;
  latency: LatencyStats;
}

export interface BusCounters {
  connected: boolean;
  /** Successful connections after the first one. */
  reconnects: number;
  disconnects: number;
  /** Received bytes that were not part of an accepted answer: line noise, late or foreign answers, bad frames. */
  noiseBytes: number;
  /** Jobs waiting (not counting the one on the wire). */
  queueDepth: number;
  /** Transactions put on the wire, retries included. */
  transactions: number;
  /** Share of the time since start() that a transaction was on the wire (0–1). */
  busyRatio: number;
  /**
   * The line has worked for a second or more without a pause: it has no time to spare, polls may overrun, and the
   * guard between transactions is kept to within half a character.
   */
  saturated: boolean;
  /** With echo on: transactions whose echo did not come back (the adapter does not echo: turn echo off). */
  missingEchoes?: number;
  /**
   * With echo on: transactions where only our own request came back, nothing after it. The device is silent,
   * or the adapter does not echo (then a single write's answer, which repeats the request, is taken for the
   * echo and the write fails): set echo off.
   */
  echoOnly?: number;
}

/** The mutable tallies behind DeviceCounters; updated in place on the hot path. */
export class DeviceTally {
  requests = 0;
  ok = 0;
  timeouts = 0;
  crcErrors = 0;
  framingErrors = 0;
  exceptions = 0;
  retries = 0;
  portDown = 0;
  breakerRejections = 0;
  private latencyLast = 0;
  private latencySum = 0;
  private latencyMax = 0;

  /** Counts one completed wire transaction. */
  record(outcome: TransactionOutcome, latencyMs: number): void {
    if (outcome.ok) {
      this.ok++;
      this.latencyLast = latencyMs;
      this.latencySum += latencyMs;
      if (latencyMs > this.latencyMax) this.latencyMax = latencyMs;
      return;
    }
    switch (outcome.failure) {
      case 'timeout':
        this.timeouts++;
        break;
      case 'crc':
        this.crcErrors++;
        break;
      case 'framing':
        this.framingErrors++;
        break;
      case 'exception':
        this.exceptions++;
        break;
      default:
        break;
    }
  }

  snapshot(breaker: BreakerStatus): DeviceCounters {
    return {
      requests: this.requests,
      ok: this.ok,
      timeouts: this.timeouts,
      crcErrors: this.crcErrors,
      framingErrors: this.framingErrors,
      exceptions: this.exceptions,
      retries: this.retries,
      portDown: this.portDown,
      breakerRejections: this.breakerRejections,
      breaker,
      latency: {
        lastMs: round3(this.latencyLast),
        avgMs: this.ok > 0 ? round3(this.latencySum / this.ok) : 0,
        maxMs: round3(this.latencyMax),
      },
    };
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
