/**
 * A set of integers kept as sorted, disjoint, non-adjacent closed ranges [from, to]. Used for acked seqs and
 * for the seqs present in a segment: both are long runs with few holes, so a handful of ranges covers
 * millions of seqs.
 */
export type Range = readonly [from: number, to: number];

export class RangeSet {
  private ranges: [number, number][] = [];

  static of(ranges: readonly Range[]): RangeSet {
    const set = new RangeSet();
    for (const [from, to] of ranges) set.addRange(from, to);
    return set;
  }

  get rangeCount(): number {
    return this.ranges.length;
  }

  isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  first(): number | null {
    return this.ranges[0]?.[0] ?? null;
  }

  last(): number | null {
    return this.ranges[this.ranges.length - 1]?.[1] ?? null;
  }

  toArray(): Range[] {
    return this.ranges.map(([from, to]) => [from, to] as const);
  }

  /** Number of integers in the set. */
  size(): number {
    let n = 0;
    for (const [from, to] of this.ranges) n += to - from + 1;
    return n;
  }

  /** Index of the first range whose end is ≥ value. */
  private lowerBound(value: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid]![1] < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The last member of the run of members that contains `value`, or null when `value` is not a member. */
  endOfRunContaining(value: number): number | null {
    const range = this.ranges[this.lowerBound(value)];
    return range !== undefined && range[0] <= value ? range[1] : null;
  }

  has(value: number): boolean {
    const range = this.ranges[this.lowerBound(value)];
    return range !== undefined && range[0] <= value;
  }

  add(value: number): void {
    this.addRange(value, value);
  }

  addRange(from: number, to: number): void {
    if (to < from) return;
    // Ranges that overlap or touch [from, to] merge with it.
    const i = this.lowerBound(from - 1);
    let start = from;
    let end = to;
    let j = i;
    while (j < this.ranges.length && this.ranges[j]![0] <= to + 1) {
      start = Math.min(start, this.ranges[j]![0]);
      end = Math.max(end, this.ranges[j]![1]);
      j++;
    }
    if (i === this.ranges.length && j === i) {
      this.ranges.push([start, end]);
      return;
    }
    this.ranges.splice(i, j - i, [start, end]);
  }

  /** Adds every value of an unsorted list, in as few range operations as its runs allow. */
  addAll(values: readonly number[]): void {
    if (values.length === 0) return;
    const sorted = [...values].sort((a, b) => a - b);
    let from = sorted[0]!;
    let to = from;
    for (let i = 1; i < sorted.length; i++) {
      const v = sorted[i]!;
      if (v <= to + 1) to = Math.max(to, v);
      else {
        this.addRange(from, to);
        from = v;
        to = v;
      }
    }
    this.addRange(from, to);
  }

  addSet(other: RangeSet): void {
    for (const [from, to] of other.ranges) this.addRange(from, to);
  }

  removeRange(from: number, to: number): void {
    if (to < from) return;
    const out: [number, number][] = [];
    for (const [a, b] of this.ranges) {
      if (b < from || a > to) out.push([a, b]);
      else {
        if (a < from) out.push([a, from - 1]);
        if (b > to) out.push([to + 1, b]);
      }
    }
    this.ranges = out;
  }

  /** Drops everything ≤ value. */
  removeThrough(value: number): void {
    let i = 0;
    while (i < this.ranges.length && this.ranges[i]![1] <= value) i++;
    if (i > 0) this.ranges.splice(0, i);
    const head = this.ranges[0];
    if (head && head[0] <= value) head[0] = value + 1;
  }

  /** The smallest member of this set above `above` that is not in `other`, or null. */
  firstNotIn(other: RangeSet, above = -Infinity): number | null {
    for (const [from, to] of this.ranges) {
      if (to <= above) continue;
      let candidate = Math.max(from, above + 1);
      while (candidate <= to) {
        const i = other.lowerBound(candidate);
        const covering = other.ranges[i];
        if (!covering || covering[0] > candidate) return candidate;
        candidate = covering[1] + 1;
      }
    }
    return null;
  }

  /** Number of members ≤ value. */
  countThrough(value: number): number {
    let n = 0;
    for (const [from, to] of this.ranges) {
      if (from > value) break;
      n += Math.min(to, value) - from + 1;
    }
    return n;
  }

  clone(): RangeSet {
    const copy = new RangeSet();
    copy.ranges = this.ranges.map(([from, to]) => [from, to]);
    return copy;
  }

  /** Number of members also in `other`. */
  intersectionSize(other: RangeSet): number {
    let n = 0;
    let j = 0;
    for (const [a, b] of this.ranges) {
      while (j < other.ranges.length && other.ranges[j]![1] < a) j++;
      let k = j;
      while (k < other.ranges.length && other.ranges[k]![0] <= b) {
        const [c, d] = other.ranges[k]!;
        n += Math.min(b, d) - Math.max(a, c) + 1;
        k++;
      }
    }
    return n;
  }

  /** Whether every member of this set is in `other`. */
  isSubsetOf(other: RangeSet): boolean {
    return this.firstNotIn(other) === null;
  }
}
