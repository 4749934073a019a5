import type { Clock } from '../../agent/clock/index.js';
import type { GpioInput } from '../../config/schema/index.js';
import type { Reading } from '../reading.js';
import type { GpioBackend, GpioInputLine } from './types.js';

/** Counter totals by channel id, in the channel's unit (e.g. mm of rain). What must survive a restart. */
export type GpioCounterTotals = Record<string, number>;

export const GPIO_DEVICE_ID = 'gpio';

interface InputChannel {
  readonly spec: GpioInput;
  line: GpioInputLine | undefined;
  unsubscribe: (() => void) | undefined;
  /** Why the line is not delivering, or null while it is. */
  problem: string | null;
  opening: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Counter: the total carried over from before this start (restore()). */
  carried: number;
  /** Counter: debounced pulses seen since this start. */
  pulses: number;
}

/**
 * The GPIO inputs of the site file as channels. Contacts (lid open, detector contact, fan running) are debounced
 * and reported at once on every change, and again every `interval`. Counters (rain-gauge tips) count debounced
 * rising edges × perPulse and report the cumulative total every `interval`; snapshot()/restore() carry the totals
 * over a restart. A line that cannot be opened, or stops working, is reported bad ('port-down') every interval
 * and reopened.
 */
export class GpioInputs {
  private readonly channels: InputChannel[];
  private running = false;
  private started = false;

  constructor(
    inputs: readonly GpioInput[],
    private readonly backend: GpioBackend,
    private readonly clock: Clock,
    private readonly publish: (readings: Reading[]) => void,
  ) {
    this.channels = inputs.map((spec) => ({
      spec,
      line: undefined,
      unsubscribe: undefined,
      problem: 'not opened yet',
      opening: false,
      timer: undefined,
      carried: 0,
      pulses: 0,
    }));
  }

  /** Opens every line, reports every channel once, then keeps reporting. Never rejects for a bad line. */
  async start(): Promise<void> {
    if (this.started) throw new Error('GPIO inputs were already started');
    this.started = true;
    this.running = true;
    await Promise.all(this.channels.map((channel) => this.open(channel)));
    if (!this.running) return;
    this.emit(this.channels.map((channel) => this.reading(channel)));
    for (const channel of this.channels) {
      channel.timer = setInterval(() => this.tick(channel), channel.spec.interval);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(
      this.channels.map(async (channel) => {
        clearInterval(channel.timer);
        channel.timer = undefined;
        await this.close(channel, 'stopped');
      }),
    );
  }

  /** Current counter totals, to be stored so they survive a restart. */
  snapshot(): GpioCounterTotals {
    const totals: GpioCounterTotals = {};
    for (const channel of this.channels) {
      if (channel.spec.kind === 'counter') totals[channel.spec.id] = this.total(channel);
    }
    return totals;
  }

  /** Carries stored totals over; before start() only, so no pulse of this run is counted twice or lost. */
  restore(totals: GpioCounterTotals): void {
    if (this.started) throw new Error('restore GPIO counter totals before start()');
    const invalid = Object.entries(totals).filter(([, total]) => typeof total !== 'number' || !Number.isFinite(total) || total < 0);
    if (invalid.length > 0) {
      throw new Error(`GPIO counter totals must be finite and ≥ 0: ${invalid.map(([id, total]) => `${id}=${String(total)}`).join(', ')}`);
    }
    for (const channel of this.channels) {
      const total = totals[channel.spec.id];
      if (channel.spec.kind === 'counter' && total !== undefined) channel.carried = total;
    }
  }

  private async open(channel: InputChannel): Promise<void> {
    if (channel.opening) return;
    channel.opening = true;
    try {
      const line = await this.backend.openInput(channel.spec.line, { debounceMs: channel.spec.debounce, bias: channel.spec.bias });
      if (!this.running) {
        await line.release();
        return;
      }
      channel.line = line;
      channel.problem = null;
      channel.unsubscribe = line.onChange((on) => this.changed(channel, on));
    } catch (error) {
      channel.problem = error instanceof Error ? error.message : String(error);
    } finally {
      channel.opening = false;
    }
  }

  private changed(channel: InputChannel, on: boolean): void {
    if (!this.running) return;
    if (channel.spec.kind === 'counter') {
      if (on) channel.pulses += 1;
      return;
    }
    this.emit([this.reading(channel)]);
  }

  private tick(channel: InputChannel): void {
    if (!this.running) return;
    const failure = channel.line?.failure() ?? null;
    if (channel.line && failure !== null) {
      const broken = this.detach(channel, channel.line, failure);
      this.emit([this.reading(channel)]);
      void broken
        .release()
        .catch(() => {})
        .then(() => this.reopen(channel));
      return;
    }
    this.emit([this.reading(channel)]);
    if (!channel.line) void this.reopen(channel);
  }

  private async reopen(channel: InputChannel): Promise<void> {
    if (!this.running) return;
    await this.open(channel);
    // A contact may have changed while its line was down: say where it is now rather than at the next interval.
    if (this.running && channel.line && channel.spec.kind === 'contact') this.emit([this.reading(channel)]);
  }

  private async close(channel: InputChannel, why: string): Promise<void> {
    const line = channel.line ? this.detach(channel, channel.line, why) : undefined;
    await line?.release().catch(() => {});
  }

  /** Stops listening to the channel's line and forgets it; the caller releases it. */
  private detach(channel: InputChannel, line: GpioInputLine, why: string): GpioInputLine {
    channel.unsubscribe?.();
    channel.unsubscribe = undefined;
    channel.line = undefined;
    channel.problem = why;
    return line;
  }

  private reading(channel: InputChannel): Reading {
    const { spec } = channel;
    const base = { ...this.clock.stamp(), channelId: spec.id, deviceId: GPIO_DEVICE_ID, unit: spec.unit ?? '' };
    if (!channel.line) {
      return { ...base, value: null, quality: 'bad', reason: 'port-down', detail: `GPIO input ${spec.id}: ${channel.problem ?? 'not open'}` };
    }
    const value = spec.kind === 'counter' ? this.total(channel) : channel.line.read() ? 1 : 0;
    return { ...base, value, quality: 'good' };
  }

  private total(channel: InputChannel): number {
    // 12 significant digits: 0.2 mm × 3 tips is 0.6, not 0.6000000000000001.
    return Number((channel.carried + channel.pulses * channel.spec.perPulse).toPrecision(12));
  }

  private emit(readings: Reading[]): void {
    try {
      this.publish(readings);
    } catch (error) {
      // The reading stream's consumers must not be able to stop the inputs from inside a timer.
      process.emitWarning(`publishing GPIO readings failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
