import type { Delay, LevelSpec } from './spec.js';

/** What a sample or the passing of time asks of a level: to raise it, to clear it, or nothing. */
export type LevelStep = 'raise' | 'clear' | null;

/**
 * One alarm level of one channel: setpoint with deadband, delay-on and delay-off by time or by consecutive
 * samples, latch and acknowledgement. It only proposes steps; the channel applies them, because levels are
 * nested (L2 implies L1) and a latched level clears on the channel's terms (acknowledged and back below L1).
 *
 * Noise at a setpoint cannot chatter: raising needs the value at or past the setpoint for the whole delay-on,
 * clearing needs it back past the deadband for the whole delay-off.
 */
export class LevelTracker {
  raised = false;
  /** Raised and held by its latch (or by an over-range reading): only acknowledgement plus a clear value end it. */
  latched = false;
  acknowledged = false;
  /** Band: the limit that was crossed, for the events; otherwise the setpoint. */
  crossedLimit: number;
  private onSince = -1;
  private onCount = 0;
  private offSince = -1;
  private offCount = 0;

  constructor(readonly spec: LevelSpec) {
    this.crossedLimit = spec.direction === 'band' ? spec.low : spec.setpoint;
  }

  inAlarmZone(value: number): boolean {
    const s = this.spec;
    if (s.direction === 'rising') return value >= s.setpoint;
    if (s.direction === 'falling') return value <= s.setpoint;
    return value < s.low || value > s.high;
  }

  inClearZone(value: number): boolean {
    const s = this.spec;
    if (s.direction === 'rising') return value < s.setpoint - s.deadband;
    if (s.direction === 'falling') return value > s.setpoint + s.deadband;
    return value > s.low + s.deadband && value < s.high - s.deadband;
  }

  /** The limit a value is held against: for a band, the side the value is on. */
  limitFor(value: number | null): number {
    const s = this.spec;
    if (s.direction !== 'band') return s.setpoint;
    return value !== null && value > (s.low + s.high) / 2 ? s.high : s.low;
  }

  /** One valid sample. */
  sample(value: number, now: number): LevelStep {
    if (!this.raised) {
      this.offSince = -1;
      this.offCount = 0;
      if (!this.inAlarmZone(value)) {
        this.onSince = -1;
        this.onCount = 0;
        return null;
      }
      if (this.onSince < 0) this.onSince = now;
      this.onCount++;
      return satisfied(this.spec.delayOn, this.onSince, this.onCount, now) ? 'raise' : null;
    }
    this.onSince = -1;
    this.onCount = 0;
    if (!this.inClearZone(value)) {
      this.offSince = -1;
      this.offCount = 0;
      return null;
    }
    if (this.offSince < 0) this.offSince = now;
    this.offCount++;
    return satisfied(this.spec.delayOff, this.offSince, this.offCount, now) ? 'clear' : null;
  }

  /** Time passing since the last sample, which was valid: completes delays given as time. */
  elapse(now: number): LevelStep {
    if (!this.raised && this.onSince >= 0 && this.spec.delayOn.kind === 'time') {
      return now - this.onSince >= this.spec.delayOn.ms ? 'raise' : null;
    }
    if (this.raised && this.offSince >= 0 && this.spec.delayOff.kind === 'time') {
      return now - this.offSince >= this.spec.delayOff.ms ? 'clear' : null;
    }
    return null;
  }

  /** Raised, not latched, and its clear condition has held for the delay-off (while something else held it up). */
  clearDue(now: number): boolean {
    return this.raised && !this.latched && this.offSince >= 0 && satisfied(this.spec.delayOff, this.offSince, this.offCount, now);
  }

  /** Warm-up or fault: what was pending is not evidence any more. */
  forgetPending(): void {
    this.onSince = -1;
    this.onCount = 0;
    this.offSince = -1;
    this.offCount = 0;
  }

  raise(value: number | null, forceLatch = false): void {
    this.raised = true;
    this.latched = this.spec.latch || forceLatch;
    this.acknowledged = false;
    this.crossedLimit = this.limitFor(value);
    this.forgetPending();
  }

  clear(): void {
    this.raised = false;
    this.latched = false;
    this.acknowledged = false;
    this.forgetPending();
  }
}

function satisfied(delay: Delay, since: number, count: number, now: number): boolean {
  return delay.kind === 'samples' ? count >= delay.count : now - since >= delay.ms;
}
