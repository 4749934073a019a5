/**
 * Paces the backlog replay: `ratePerSecond` tokens a second up to `burst`. One token is one record, so the
 * replay rate is in records (readings) per second whatever the batch size. Time is monotonic milliseconds.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new Error(`token bucket needs rate > 0 and burst >= 1 (got ${ratePerSecond}, ${burst})`);
    this.tokens = burst;
    this.last = now();
  }

  available(): number {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000);
      this.last = t;
    }
    return this.tokens;
  }

  take(count: number): void {
    this.available();
    this.tokens -= count;
  }

  /** Milliseconds until `count` tokens (at most the burst) are there; 0 when they already are. */
  msUntil(count: number): number {
    const missing = Math.min(count, this.burst) - this.available();
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }
}
