/** Bus priorities, most urgent first. Writes (operator and safety commands) go ahead of every poll. */
export type JobPriority = 'write' | 'critical' | 'normal' | 'low';

const LANE_OF: Readonly<Record<JobPriority, number>> = { write: 0, critical: 1, normal: 2, low: 3 };

/** A FIFO that does not copy the array on every shift (Array#shift is O(n)). */
class Lane<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  takeAll(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }
}

/** Strict priority between lanes, FIFO within a lane. */
export class JobQueue<T> {
  private readonly lanes = [new Lane<T>(), new Lane<T>(), new Lane<T>(), new Lane<T>()] as const;

  get size(): number {
    return this.lanes[0].size + this.lanes[1].size + this.lanes[2].size + this.lanes[3].size;
  }

  push(item: T, priority: JobPriority): void {
    this.lanes[LANE_OF[priority]]!.push(item);
  }

  /** Puts an item back at the head of its lane (a retry keeps its place ahead of later polls). */
  pushFront(item: T, priority: JobPriority): void {
    this.lanes[LANE_OF[priority]]!.unshift(item);
  }

  peek(): T | undefined {
    for (const lane of this.lanes) if (lane.size > 0) return lane.peek();
    return undefined;
  }

  shift(): T | undefined {
    for (const lane of this.lanes) if (lane.size > 0) return lane.shift();
    return undefined;
  }

  /** Empties the queue, most urgent first. */
  takeAll(): T[] {
    return this.lanes.flatMap((lane) => lane.takeAll());
  }
}
