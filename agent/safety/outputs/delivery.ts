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
 *
 * Without a feedback channel, the output's own coil may still be polled as a channel (`readback`): a good
 * read-back taken after the write that disagrees with the command starts the same sequence, and once it has
 * disagreed only an agreeing read-back confirms again. A driver that knows of a standing failure by itself
 * (`failure()`, GPIO) counts as not following. And every confirmed command is written again every REASSERT_MS:
 * a relay board that reset (brownout when the fan motor starts) comes back with its coils released.
 */

/** A confirmed command is written again this often (one write per output per period on its bus). */
export const REASSERT_MS = 30_000;

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
/**
 * After output-failed, a write that keeps erroring is retried at this pace. Each such retry to a dead device
 * costs the bus one full device timeout at write priority (ahead of every poll): at 5 s, three dead coils took
 * about a third of a 9600-baud line. A new command is still written at once, with its quick retries.
 */
export const FAILED_WRITE_ERROR_RETRY_MS = 30_000;

export interface DeliverySettings {
  outputId: string;
  driver: OutputDriver | undefined;
  feedback?: { channel: string; within: number; retries: number };
  /** The output's own coil, polled as a channel; used when there is no feedback channel. */
  readback?: string;
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
  /** When this write (first, retry or re-assert) was issued. */
  readonly issuedMono: number;
  deadline: number;
  write: 'pending' | 'ok' | 'error';
  /** Read-back path: it has disagreed, so only an agreeing read-back confirms again. */
  needReadback: boolean;
}

export class Delivery {
  private attempt: Attempt | undefined;
  private seq = 0;
  private retriesUsed = 0;
  private failedReported = false;
  private stopped = false;
  private current: DeliveryState = 'none';
  private writeError: string | undefined;
  private standing: string | undefined;
  /** Read-back path: only readings taken at or after this (the last successful write's answer) count. */
  private readbackSince = Number.POSITIVE_INFINITY;

  constructor(private readonly settings: DeliverySettings) {}

  get state(): DeliveryState {
    return this.current;
  }

  /** The last write error, or the driver's standing failure. */
  get lastWriteError(): string | undefined {
    return this.writeError ?? this.standing;
  }

  /** A new command: starts a fresh confirmation. Resolves when the write has completed (never rejects). */
  command(on: boolean): Promise<void> {
    const now = this.settings.clock.now();
    this.retriesUsed = 0;
    this.current = 'pending';
    this.readbackSince = Number.POSITIVE_INFINITY;
    this.attempt = {
      seq: ++this.seq,
      on,
      commandedMono: now,
      issuedMono: now,
      deadline: now + this.confirmMs(),
      write: 'pending',
      needReadback: false,
    };
    return this.write(this.attempt);
  }

  /** Looks at the write result and the read-back; retries or reports at the deadlines. Call on every run. */
  check(): void {
    const attempt = this.attempt;
    if (!attempt || this.stopped) return;
    const now = this.settings.clock.now();
    this.standing = this.standingFailure();
    const disagrees = this.readBackDisagrees(attempt);
    if (disagrees && !this.settings.feedback) attempt.needReadback = true;
    if (this.standing === undefined && this.follows(attempt)) {
      if (this.current !== 'ok') {
        this.current = 'ok';
        this.retriesUsed = 0;
        if (this.failedReported) {
          this.failedReported = false;
          this.settings.onRecovered(`${this.what()} follows "${onOff(attempt.on)}" again`);
        }
      }
      if (now - attempt.issuedMono >= REASSERT_MS) this.retry(attempt, now + this.confirmMs());
      return;
    }
    if (this.current === 'ok') {
      // A re-assert still on its way is not a miss; an error, a standing failure or a read-back that disagrees is.
      if (this.standing === undefined && attempt.write !== 'error' && !disagrees) return;
      this.current = 'pending';
      attempt.deadline = now + (attempt.write === 'error' ? WRITE_ERROR_RETRY_MS : this.confirmMs());
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
      attempt.deadline = now + (attempt.write === 'error' ? FAILED_WRITE_ERROR_RETRY_MS : FAILED_RETRY_MS);
      this.settings.onFailed(this.failureDetail(attempt));
    }
  }

  /** No more retries (shutdown). */
  stop(): void {
    this.stopped = true;
  }

  private retry(attempt: Attempt, deadline: number): void {
    const again: Attempt = { ...attempt, seq: ++this.seq, issuedMono: this.settings.clock.now(), deadline, write: 'pending' };
    this.attempt = again;
    void this.write(again);
  }

  private async write(attempt: Attempt): Promise<void> {
    const result = await safeWrite(this.settings.driver, this.settings.outputId, attempt.on);
    if (this.attempt?.seq !== attempt.seq) return;
    attempt.write = result.ok ? 'ok' : 'error';
    this.writeError = result.ok ? undefined : result.error;
    if (result.ok) this.readbackSince = this.settings.clock.now();
    if (!result.ok) {
      const soon = this.settings.clock.now() + (this.current === 'failed' ? FAILED_WRITE_ERROR_RETRY_MS : WRITE_ERROR_RETRY_MS);
      attempt.deadline = Math.min(attempt.deadline, soon);
    }
    this.check();
  }

  private follows(attempt: Attempt): boolean {
    const feedback = this.settings.feedback;
    if (!feedback) {
      if (attempt.write !== 'ok') return false;
      const state = this.freshReadback();
      return attempt.needReadback ? state === onOff(attempt.on) : state === undefined || state === onOff(attempt.on);
    }
    const reading = this.settings.inputs.latestValue(feedback.channel);
    if (reading?.monoTs !== undefined && reading.monoTs < attempt.commandedMono) return false;
    return contactState(reading) === onOff(attempt.on);
  }

  private readBackDisagrees(attempt: Attempt): boolean {
    const feedback = this.settings.feedback;
    const state = feedback ? contactState(this.settings.inputs.latestValue(feedback.channel)) : this.freshReadback();
    return state !== undefined && state !== onOff(attempt.on);
  }

  /** The coil read-back, if there is one taken after the last successful write (a poll from before proves nothing). */
  private freshReadback(): 'on' | 'off' | undefined {
    const channel = this.settings.readback;
    if (channel === undefined) return undefined;
    const reading = this.settings.inputs.latestValue(channel);
    if (reading?.monoTs !== undefined && reading.monoTs < this.readbackSince) return undefined;
    if (reading?.monoTs === undefined && this.readbackSince === Number.POSITIVE_INFINITY) return undefined;
    return contactState(reading);
  }

  /** What the driver knows is wrong by itself (GPIO drivers); a throwing driver is a failure too. */
  private standingFailure(): string | undefined {
    const driver = this.settings.driver;
    if (!driver?.failure) return undefined;
    try {
      return driver.failure() ?? undefined;
    } catch (error) {
      return `${driver.description}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  private failureDetail(attempt: Attempt): string {
    const attempts = `${this.retriesUsed + 1} attempt${this.retriesUsed === 0 ? '' : 's'}`;
    const writeNote =
      this.standing !== undefined
        ? `driver reports: ${this.standing}`
        : attempt.write === 'error'
          ? `last write failed: ${this.writeError ?? 'unknown error'}`
          : attempt.write === 'pending'
            ? 'last write did not complete'
            : undefined;
    const feedback = this.settings.feedback;
    if (!feedback) {
      const readback = this.settings.readback;
      const note = writeNote ?? (readback ? `read-back ${readback} did not follow "${onOff(attempt.on)}"` : 'write not confirmed');
      return `${this.what()}: ${note} (${attempts})`;
    }
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
