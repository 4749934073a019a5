/**
 * A bounded history of one crack gauge's values, enough to look back over the longest rate or tangent window.
 * Between two samples the value is interpolated linearly, so a poll that comes a little early or late does not
 * pull a whole extra interval into the window.
 *
 * Bounded twice: samples older than the span are dropped (one is kept at or before its start), and samples are
 * decimated to at least span / (capacity / 2) apart, the newest always kept as it came: at most capacity points
 * whatever the poll rate (a 1-min accelerated poll over a 1-day window keeps about 250).
 */
export class SampleHistory {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private head = 0;
  private size = 0;
  private readonly minSpacingMs: number;

  constructor(
    readonly spanMs: number,
    readonly capacity = 500,
  ) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.minSpacingMs = spanMs / Math.floor(capacity / 2);
  }

  get length(): number {
    return this.size;
  }

  push(time: number, value: number): void {
    const last = this.size - 1;
    if (this.size >= 2 && this.timeAt(last) - this.timeAt(last - 1) < this.minSpacingMs) {
      this.setAt(last, time, value);
    } else {
      if (this.size === this.capacity) this.dropOldest();
      this.setAt(this.size, time, value);
      this.size++;
    }
    this.prune(time);
  }

  /** The value at `time`, interpolated between the samples around it; undefined outside the history. */
  valueAt(time: number): number | undefined {
    if (this.size === 0 || this.timeAt(0) > time || this.timeAt(this.size - 1) < time) return undefined;
    let lo = 0;
    let hi = this.size - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.timeAt(mid) <= time) lo = mid;
      else hi = mid - 1;
    }
    const t0 = this.timeAt(lo);
    const v0 = this.valueOf(lo);
    if (t0 === time || lo === this.size - 1) return v0;
    const t1 = this.timeAt(lo + 1);
    const v1 = this.valueOf(lo + 1);
    return v0 + ((v1 - v0) * (time - t0)) / (t1 - t0);
  }

  latestTime(): number | undefined {
    return this.size === 0 ? undefined : this.timeAt(this.size - 1);
  }

  latestValue(): number | undefined {
    return this.size === 0 ? undefined : this.values[(this.head + this.size - 1) % this.capacity];
  }

  /** Oldest first, as [time, value] pairs. */
  entries(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.size; i++) {
      const index = (this.head + i) % this.capacity;
      out.push([this.times[index]!, this.values[index]!]);
    }
    return out;
  }

  private prune(now: number): void {
    const start = now - this.spanMs;
    while (this.size >= 2 && this.timeAt(1) <= start) this.dropOldest();
  }

  private dropOldest(): void {
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }

  private valueOf(i: number): number {
    return this.values[(this.head + i) % this.capacity]!;
  }

  private timeAt(i: number): number {
    return this.times[(this.head + i) % this.capacity]!;
  }

  private setAt(i: number, time: number, value: number): void {
    const index = (this.head + i) % this.capacity;
    this.times[index] = time;
    this.values[index] = value;
  }
}
