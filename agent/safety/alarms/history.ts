/**
 * A bounded history of one crack gauge's values, enough to look back over the longest rate or tangent window.
 * Read as a step function (a value holds until the next sample), so a window sliding between samples changes
 * its answer only when a sample enters or leaves it.
 *
 * Bounded twice: samples older than the window are dropped (one is kept at or before the window's start), and
 * samples are decimated to at least span / (capacity / 2) apart, the newest always kept as it came. Looking back
 * through a decimated stretch lands on a slightly older sample: for an opening crack the rate comes out
 * slightly higher, never lower (at most span / 250 of extra time, 0.4 %).
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

  /** The value held at `time`: the latest sample at or before it; undefined when the history starts later. */
  valueAt(time: number): number | undefined {
    if (this.size === 0 || this.timeAt(0) > time) return undefined;
    let lo = 0;
    let hi = this.size - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.timeAt(mid) <= time) lo = mid;
      else hi = mid - 1;
    }
    return this.values[(this.head + lo) % this.capacity];
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

  private timeAt(i: number): number {
    return this.times[(this.head + i) % this.capacity]!;
  }

  private setAt(i: number, time: number, value: number): void {
    const index = (this.head + i) % this.capacity;
    this.times[index] = time;
    this.values[index] = value;
  }
}
