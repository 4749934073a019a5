import type { Reading } from '../../drivers/reading.js';

export type ReadingListener = (readings: readonly Reading[]) => void;

/**
 * The in-process fan-out of readings: synchronous, no I/O inside. Consumers that need I/O (recorder, uplink)
 * must hand the readings off to their own queue; a listener that throws is isolated from the others.
 */
export class ReadingStream {
  private readonly listeners = new Set<ReadingListener>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  subscribe(listener: ReadingListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(readings: readonly Reading[]): void {
    for (const listener of this.listeners) {
      try {
        listener(readings);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
