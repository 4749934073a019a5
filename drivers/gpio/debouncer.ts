export type LevelListener = (on: boolean, monoTs: number) => void;

/**
 * Turns the raw levels of a bouncing contact into clean changes: a new level counts only once the wire has
 * held it for `debounceMs` without any edge in between. Every backend feeds its raw edges through one of these,
 * so a reed switch debounces the same on the character device, on sysfs and in the simulation.
 */
export class LevelDebouncer {
  private stable: boolean;
  private raw: boolean;
  private pending: NodeJS.Timeout | undefined;
  private risingEdges = 0;
  private readonly listeners = new Set<LevelListener>();
  private disposed = false;

  constructor(
    initial: boolean,
    private readonly debounceMs: number,
    private readonly now: () => number,
  ) {
    this.stable = initial;
    this.raw = initial;
  }

  /** A raw logical level from the wire (repeats of the same level are fine). */
  feed(on: boolean): void {
    if (this.disposed) return;
    this.raw = on;
    clearTimeout(this.pending);
    this.pending = undefined;
    if (on === this.stable) return;
    if (this.debounceMs <= 0) {
      this.accept();
      return;
    }
    this.pending = setTimeout(() => this.accept(), this.debounceMs);
  }

  level(): boolean {
    return this.stable;
  }

  edges(): number {
    return this.risingEdges;
  }

  onChange(listener: LevelListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.pending);
    this.pending = undefined;
    this.listeners.clear();
  }

  private accept(): void {
    this.pending = undefined;
    if (this.raw === this.stable) return;
    this.stable = this.raw;
    if (this.stable) this.risingEdges += 1;
    const at = this.now();
    for (const listener of [...this.listeners]) {
      try {
        listener(this.stable, at);
      } catch (error) {
        // A listener's bug must not stop the other listeners or kill the process from inside a timer.
        process.emitWarning(`GPIO change listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
