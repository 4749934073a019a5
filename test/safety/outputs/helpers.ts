import { ManualClock } from '../../../agent/clock/index.js';
import type { SafetyEvent } from '../../../agent/safety/events.js';
import {
  OutputController,
  type ChannelSafetyStatus,
  type InputValue,
  type InputView,
  type OutputDriver,
  type OutputSnapshot,
  type SafetyView,
  type WriteResult,
} from '../../../agent/safety/outputs/index.js';
import { output as outputSchema, type Output } from '../../../config/schema/index.js';

export const MINUTE = 60_000;

/** Channel states as the alarm engine would report them; tests set them directly. */
export class TestSafetyView implements SafetyView {
  private readonly byId = new Map<string, ChannelSafetyStatus>();

  /** A channel that has been read and is normal. */
  add(channelId: string, patch: Partial<ChannelSafetyStatus> = {}): this {
    this.byId.set(channelId, {
      channelId,
      deviceId: channelId.split('.')[0] ?? channelId,
      level: 'normal',
      overRange: false,
      latched: false,
      acknowledged: false,
      fault: false,
      warmUp: false,
      grade: null,
      value: 0,
      unit: '',
      since: 0,
      ...patch,
    });
    return this;
  }

  set(channelId: string, patch: Partial<ChannelSafetyStatus>): void {
    const current = this.byId.get(channelId);
    if (!current) throw new Error(`test: no channel ${channelId}`);
    this.byId.set(channelId, { ...current, ...patch });
  }

  channels(): ChannelSafetyStatus[] {
    return [...this.byId.values()];
  }

  channel(channelId: string): ChannelSafetyStatus | undefined {
    return this.byId.get(channelId);
  }
}

export class TestInputs implements InputView {
  private readonly values = new Map<string, InputValue>();

  set(channelId: string, value: InputValue | undefined): void {
    if (value) this.values.set(channelId, value);
    else this.values.delete(channelId);
  }

  latestValue(channelId: string): InputValue | undefined {
    return this.values.get(channelId);
  }
}

export interface RecordedWrite {
  on: boolean;
  atMono: number;
}

/**
 * An output line that records what it was told. `answer` decides each write's result; `physical` is what the
 * line is really at (the last write that succeeded), for read-back channels.
 */
export class RecordingDriver implements OutputDriver {
  readonly writes: RecordedWrite[] = [];
  physical: boolean | undefined;
  answer: () => WriteResult | 'never' = () => ({ ok: true });
  /** A standing failure the line reports by itself (as a GPIO driver does); null = none. */
  standing: string | null = null;

  constructor(
    readonly description: string,
    private readonly clock: ManualClock,
  ) {}

  write(on: boolean): Promise<WriteResult> {
    this.writes.push({ on, atMono: this.clock.now() });
    const result = this.answer();
    if (result === 'never') return new Promise(() => {});
    if (result.ok) this.physical = on;
    return Promise.resolve(result);
  }

  failure(): string | null {
    return this.standing;
  }

  get states(): boolean[] {
    return this.writes.map((write) => write.on);
  }

  /** The switching the line saw: writes with repeats of the same state (re-asserts, retries) collapsed. */
  get switches(): boolean[] {
    return this.states.filter((on, i, all) => i === 0 || all[i - 1] !== on);
  }
}

export function makeOutput(input: Record<string, unknown>): Output {
  return outputSchema.parse(input);
}

export interface Harness {
  controller: OutputController;
  clock: ManualClock;
  safety: TestSafetyView;
  inputs: TestInputs;
  drivers: Map<string, RecordingDriver>;
  events: SafetyEvent[];
  driver(outputId: string): RecordingDriver;
  eventsOf(type: SafetyEvent['type']): SafetyEvent[];
  /** Lets the drivers' answers arrive (they resolve on the microtask queue). */
  settle(): Promise<void>;
  /** Lets pending write answers arrive, then moves simulated time (time never passes with answers unread). */
  advance(ms: number): Promise<void>;
  /** Advances simulated time in steps, ticking after each and letting write answers arrive, as in the agent. */
  run(ms: number, stepMs?: number): Promise<void>;
}

export function harness(options: {
  outputs: Array<Record<string, unknown>>;
  safety?: TestSafetyView;
  inputs?: TestInputs;
  clock?: ManualClock;
  restore?: OutputSnapshot;
  start?: boolean;
  shutdownTimeoutMs?: number;
  readback?: Record<string, string>;
  restoreDowntimeMs?: number;
}): Harness {
  const clock = options.clock ?? new ManualClock();
  const safety = options.safety ?? new TestSafetyView();
  const inputs = options.inputs ?? new TestInputs();
  const outputs = options.outputs.map(makeOutput);
  const drivers = new Map(outputs.map((o) => [o.id, new RecordingDriver(`test line ${o.id}`, clock)]));
  const events: SafetyEvent[] = [];
  const controller = new OutputController({
    outputs,
    safety,
    inputs,
    drivers,
    clock,
    emit: (event) => events.push(event),
    restore: options.restore,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    readback: options.readback ? new Map(Object.entries(options.readback)) : undefined,
    restoreDowntimeMs: options.restoreDowntimeMs,
  });
  if (options.start !== false) controller.start();
  return {
    controller,
    clock,
    safety,
    inputs,
    drivers,
    events,
    driver(outputId) {
      const driver = drivers.get(outputId);
      if (!driver) throw new Error(`test: no driver ${outputId}`);
      return driver;
    },
    eventsOf: (type) => events.filter((event) => event.type === type),
    settle: () => new Promise((resolve) => setImmediate(resolve)),
    async advance(ms) {
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(ms);
    },
    async run(ms, stepMs = 1000) {
      for (let done = 0; done < ms; done += stepMs) {
        await new Promise((resolve) => setImmediate(resolve));
        clock.advance(Math.min(stepMs, ms - done));
        controller.tick();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

/** The fan of tank 1 as the septic-tank example would write it. */
export const tankFan = {
  id: 'tank1.fan',
  kind: 'fan',
  modbus: { device: 'tank1-relays', register: 'relay_1' },
  when: { any: [{ alarm: 'L1', channels: ['tank1.ch4', 'tank1.h2s'] }] },
  onStartup: 'hold',
};

export function gasSite(): TestSafetyView {
  return new TestSafetyView()
    .add('tank1.ch4', { unit: '%LEL', value: 2 })
    .add('tank1.h2s', { unit: 'ppm', value: 0.5 });
}
