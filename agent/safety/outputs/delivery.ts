import type { Clock } from '../../clock/index.js';
import { contactState } from './conditions.js';
import { formatDuration } from './words.js';
import type { DeliveryState, InputView, OutputDriver, WriteResult } from './types.js';

/**
 * Whether one output really follows its command: the write must succeed and, where a feedback channel is
 * configured, the contact or coil read-back must show the commanded state within `within`. A miss is retried
 * `retries` times, then reported once ("output-failed"); after that it is retried slowly for as long as it
 * keeps failing (a relay board that lost power comes back with its coils released). A following read-back
 * later is reported as "output-recovered". A read-back that drops away from a confirmed command (a tripped
 * fan contactor) starts the same sequence.
 */

/** Used for outputs without a feedback channel: how long a write may take, and how often it is retried. */
export const DEFAULT_CONFIRM_MS = 10_000;
export const DEFAULT_RETRIES = 2;
/** After output-failed: keep trying, but at a pace that does not crowd the bus. */
export const FAILED_RETRY_MS = 60_000;
/**
 * A write that came back with an error (port down, device not answering) is tried again this soon: a fan
 * must start as soon as the relay board can hear it, not a confirmation window later.
 */
export const WRITE_ERROR_RETRY_MS = 1_000;
/** After output-failed, a write that keeps erroring is retried at this pace (cheap while the port is down). */
export const FAILED_WRITE_ERROR_RETRY_MS = 5_000;

export interface DeliverySettings {
  outputId: string;
  driver: OutputDriver | undefined;
  feedback?: { channel: string; within: number; retries: number };
  clock: Clock;
  inputs: InputView;
  onFailed(detail: string): void;
  onRecovered(detail: string): void;
}

interface Attempt {
  readonly seq: number;
  readonly on: boolean;
  /** When the command (not this retry) was first issued: read-backs from before it prove nothing. */
  readonly commandedMono: number;
  deadline: number;
  write: 'pending' | 'ok' | 'error';
}

export class Delivery {
  private attempt: Attempt | undefined;
  private seq = 0;
  private retriesUsed = 0;
  private failedReported = false;
  private stopped = false;
  private current: DeliveryState = 'none';
  private writeError: string | undefined;

  constructor(private readonly settings: DeliverySettings) {}

  get state(): DeliveryState {
    return this.current;
  }

  get lastWriteError(): string | undefined {
    return this.writeError;
  }

  /** A new command: starts a fresh confirmation. Resolves when the write has completed (never rejects). */
  command(on: boolean): Promise<void> {
    const now = this.settings.clock.now();
    this.retriesUsed = 0;
    this.current = 'pending';
    this.attempt = { seq: ++this.seq, on, commandedMono: now, deadline: now + this.confirmMs(), write: 'pending' };
    return this.write(this.attempt);
  }

  /** Looks at the write result and the read-back; retries or reports at the deadlines. Call on every run. */
  check(): void {
    const attempt = this.attempt;
    if (!attempt || this.stopped) return;
    const now = this.settings.clock.now();
    if (this.follows(attempt)) {
      if (this.current !== 'ok') {
        this.current = 'ok';
        this.retriesUsed = 0;
        if (this.failedReported) {
          this.failedReported = false;
          this.settings.onRecovered(`${this.what()} follows "${onOff(attempt.on)}" again`);
        }
      }
      return;
    }
    if (this.current === 'ok') {
      if (!this.readBackDisagrees(attempt)) return;
      this.current = 'pending';
      attempt.deadline = now + this.confirmMs();
      return;
    }
    if (now < attempt.deadline) return;
    if (this.current === 'failed') {
      this.retry(attempt, now + (attempt.write === 'error' ? FAILED_WRITE_ERROR_RETRY_MS : FAILED_RETRY_MS));
    } else if (this.retriesUsed < this.retries()) {
      this.retriesUsed++;
      this.retry(attempt, now + this.confirmMs());
    } else {
      this.current = 'failed';
      this.failedReported = true;
      attempt.deadline = now + FAILED_RETRY_MS;
      this.settings.onFailed(this.failureDetail(attempt));
    }
  }

  /** No more retries (shutdown). */
  stop(): void {
    this.stopped = true;
  }

  private retry(attempt: Attempt, deadline: number): void {
    const again: Attempt = { ...attempt, seq: ++this.seq, deadline, write: 'pending' };
    this.attempt = again;
    void this.write(again);
  }

  private async write(attempt: Attempt): Promise<void> {
    const result = await safeWrite(this.settings.driver, this.settings.outputId, attempt.on);
    if (this.attempt?.seq !== attempt.seq) return;
    attempt.write = result.ok ? 'ok' : 'error';
    this.writeError = result.ok ? undefined : result.error;
    if (!result.ok) {
      const soon = this.settings.clock.now() + (this.current === 'failed' ? FAILED_WRITE_ERROR_RETRY_MS : WRITE_ERROR_RETRY_MS);
      attempt.deadline = Math.min(attempt.deadline, soon);
    }
    this.check();
  }

  private follows(attempt: Attempt): boolean {
    const feedback = this.settings.feedback;
    if (!feedback) return attempt.write === 'ok';
    const reading = this.settings.inputs.latestValue(feedback.channel);
    if (reading?.monoTs !== undefined && reading.monoTs < attempt.commandedMono) return false;
    return contactState(reading) === onOff(attempt.on);
  }

  private readBackDisagrees(attempt: Attempt): boolean {
    const feedback = this.settings.feedback;
    if (!feedback) return false;
    const state = contactState(this.settings.inputs.latestValue(feedback.channel));
    return state !== undefined && state !== onOff(attempt.on);
  }

  private failureDetail(attempt: Attempt): string {
    const attempts = `${this.retriesUsed + 1} attempt${this.retriesUsed === 0 ? '' : 's'}`;
    const writeNote =
      attempt.write === 'error' ? `last write failed: ${this.writeError ?? 'unknown error'}` : attempt.write === 'pending' ? 'last write did not complete' : undefined;
    const feedback = this.settings.feedback;
    if (!feedback) return `${this.what()}: ${writeNote ?? 'write not confirmed'} (${attempts})`;
    return (
      `feedback ${feedback.channel} did not follow "${onOff(attempt.on)}" within ${formatDuration(feedback.within)} ` +
      `(${attempts}${writeNote ? `; ${writeNote}` : ''})`
    );
  }

  private what(): string {
    const feedback = this.settings.feedback;
    return feedback ? `feedback ${feedback.channel}` : (this.settings.driver?.description ?? `output ${this.settings.outputId}`);
  }

  private confirmMs(): number {
    return this.settings.feedback?.within ?? DEFAULT_CONFIRM_MS;
  }

  private retries(): number {
    return this.settings.feedback?.retries ?? DEFAULT_RETRIES;
  }
}

function onOff(on: boolean): 'on' | 'off' {
  return on ? 'on' : 'off';
}

/** A driver that throws or rejects has failed the write, never the safety loop. */
async function safeWrite(driver: OutputDriver | undefined, outputId: string, on: boolean): Promise<WriteResult> {
  if (!driver) return { ok: false, error: `no driver for output ${outputId}` };
  try {
    return await driver.write(on);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
