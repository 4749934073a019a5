import type { Reading } from '../../drivers/reading.js';

/** The most recent reading of every channel: what the gateway sees now. */
export class LatestReadings {
  private readonly byChannel = new Map<string, Reading>();

  update(readings: readonly Reading[]): void {
    for (const reading of readings) this.byChannel.set(reading.channelId, reading);
  }

  get(channelId: string): Reading | undefined {
    return this.byChannel.get(channelId);
  }

  all(): Reading[] {
    return [...this.byChannel.values()];
  }
}
