import type { Output } from '../../../config/schema/index.js';
import type { Quality } from '../../../drivers/reading.js';

/** The alarm engine's view of one channel: one shape, defined where it is produced. */
export type { ChannelSafetyStatus } from '../alarms/index.js';
import type { ChannelSafetyStatus } from '../alarms/index.js';

/** What the outputs need from the alarm engine. */
export interface SafetyView {
  channels(): ChannelSafetyStatus[];
  channel(channelId: string): ChannelSafetyStatus | undefined;
}

/** The latest value of a contact or read-back channel (a Reading fits). */
export interface InputValue {
  value: number | null;
  quality: Quality;
  /** When it was taken; when given, feedback only trusts readings taken after the command. */
  monoTs?: number;
}

/** Where `input` conditions and feedback channels are read from (e.g. `{ latestValue: (id) => latest.get(id) }`). */
export interface InputView {
  latestValue(channelId: string): InputValue | undefined;
}

export type WriteResult = { ok: true } | { ok: false; error: string };

/** One physical output line. Implementations: a Modbus coil (modbusCoilDriver) or a GPIO line. */
export interface OutputDriver {
  /** For people: "coil relay_1 of tank1-relays", "GPIO pinctrl-bcm2711:17". */
  readonly description: string;
  /** Never rejects on purpose; a rejection or a throw is treated as { ok: false }. */
  write(on: boolean): Promise<WriteResult>;
  /**
   * A failure the driver knows of by itself, without a write (a GPIO line taken away): a text for people, or
   * null when there is none. Optional; asked on every run, so it must be cheap and must not block.
   */
  failure?(): string | null;
}

export type OutputKind = Output['kind'];

export type OverrideState = 'on' | 'off';

export interface OverrideStatus {
  state: OverrideState;
  /** Monotonic deadline (clock.now()); overrides never expire by wall clock. */
  untilMono: number;
  by: string;
  remainingMs: number;
}

/**
 * ok: the output is known to follow its command (feedback channel, or the write succeeded when there is no
 * feedback channel); pending: waiting for that; failed: it did not follow after all retries; none: nothing
 * commanded yet.
 */
export type DeliveryState = 'ok' | 'pending' | 'failed' | 'none';

export interface OutputStatus {
  outputId: string;
  kind: OutputKind;
  /** The state last commanded; null = never commanded since start (onStartup: hold). */
  commanded: boolean | null;
  /** Why it is in that state, in words. */
  cause: string;
  /** What the rule (with fail-safe) asks for, before min times, interlock, silence and overrides. */
  ruleWants: boolean;
  override?: OverrideStatus;
  silenced: boolean;
  /** 'none' when the output has no feedback channel (write errors still show in lastWriteError). */
  feedback: DeliveryState;
  /** Whether the writes, and the feedback channel where there is one, confirm the command. */
  delivery: DeliveryState;
  lastWriteError?: string;
  /** Monotonic time it was last switched on, while it is on. */
  onSinceMono?: number;
  /** The interlock that currently holds it off (or that it is running against), in words. */
  interlock?: string;
}

export interface OutputSnapshotEntry {
  commanded: boolean | null;
  cause: string;
  /** Remaining time, not a wall time: a restart continues the override for what was left of it. */
  override?: { state: OverrideState; remainingMs: number; by: string };
}

/** What survives a restart; plain JSON. */
export interface OutputSnapshot {
  version: 1;
  outputs: Record<string, OutputSnapshotEntry>;
}
