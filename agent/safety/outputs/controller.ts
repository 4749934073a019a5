import type { Output } from '../../../config/schema/index.js';
import type { Clock } from '../../clock/index.js';
import type { SafetyEvent, SafetyEventSink } from '../events.js';
import {
  compileInterlock,
  compileRule,
  evaluateInterlock,
  evaluateRule,
  referencedChannels,
  type CompiledInterlock,
  type CompiledRule,
  type Reason,
  type RuleContext,
} from './conditions.js';
import { Delivery } from './delivery.js';
import { restoredEntry } from './snapshot.js';
import type {
  InputView,
  OutputDriver,
  OutputSnapshot,
  OutputSnapshotEntry,
  OutputStatus,
  OverrideState,
  SafetyView,
} from './types.js';
import { formatDuration } from './words.js';

export interface OutputControllerOptions {
  outputs: Output[];
  safety: SafetyView;
  inputs: InputView;
  /** One driver per output id; an output without one is reported as failed, the others run on. */
  drivers: ReadonlyMap<string, OutputDriver>;
  clock: Clock;
  emit: SafetyEventSink;
  restore?: OutputSnapshot;
  /**
   * How long the agent was stopped, when known (the wiring computes it from the state file's saved wall time,
   * only if the clock was synchronised both at the save and now; otherwise undefined). Subtracted from each
   * restored override; unknown → overrides keep what was left, but a force off of a fan or sounder is capped at
   * RESTORED_FORCE_OFF_CAP_MS.
   */
  restoreDowntimeMs?: number;
  /** The site's channel ids that patterns ("tank1.*") are matched against; default: the channels of `safety`. */
  channelIds?: readonly string[];
  /**
   * outputId → the channel that polls the output's own coil. Used for outputs without `feedback`: a good
   * read-back that disagrees with a confirmed command is handled as a feedback miss.
   */
  readback?: ReadonlyMap<string, string>;
  /** The longest shutdown() waits for its writes. */
  shutdownTimeoutMs?: number;
}

export type ForceResult = { ok: true; until: number } | { ok: false; error: string };
export type ClearResult = { ok: true } | { ok: false; error: string };

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 2000;
/** An unknown gap must not extend a decision to silence safety equipment: a restored force off of a fan or sounder. */
export const RESTORED_FORCE_OFF_CAP_MS = 5 * 60_000;
const MAX_REASONS_IN_CAUSE = 3;

interface Override {
  state: OverrideState;
  untilMono: number;
  by: string;
}

interface OutputState {
  readonly output: Output;
  readonly rule: CompiledRule;
  readonly interlock: CompiledInterlock | undefined;
  readonly referenced: readonly string[];
  readonly delivery: Delivery;
  readonly restored: OutputSnapshotEntry | undefined;
  commanded: boolean | null;
  cause: string;
  onSinceMono?: number;
  /** Wear protection: until when a change of state waits (undefined = no wait). */
  minOnUntil?: number;
  minOffUntil?: number;
  reasons: Reason[];
  override?: Override;
  /** Sounders: what was raised when silenced; anything raised beyond it is a new alarm. */
  silenced?: { by: string; keys: Set<string> };
  ruleOnSince?: number;
  persistentReported: boolean;
  interlockText?: string;
  interlockReported: boolean;
  /** A restored override that ran out while the agent was stopped; reported at start(). */
  expiredWhileStopped?: { state: OverrideState; by: string };
}

type Phase = 'new' | 'running' | 'stopped';

/**
 * Decides every output from the alarm states, synchronously: evaluate() after each reading batch and
 * periodically. Commands go to the drivers at once and are not awaited; what becomes of them (write errors,
 * feedback) is handled when it is known. Nothing here waits on disk or network.
 *
 * Order of precedence for one output: a manual override; a silence (sounders); the rule with fail-safe,
 * held by the minimum on/off times and the interlock. A safety reason (alarm, fault, crack, fail-safe) starts a
 * fan or sounder even inside its minimum off time: wear never delays ventilation or a warning.
 */
export class OutputController {
  private readonly states = new Map<string, OutputState>();
  private readonly safety: SafetyView;
  private readonly inputs: InputView;
  private readonly clock: Clock;
  private readonly sink: SafetyEventSink;
  private readonly shutdownTimeoutMs: number;
  private readonly seenData = new Set<string>();
  private readonly context: RuleContext;
  private phase: Phase = 'new';
  private healthy = false;

  constructor(options: OutputControllerOptions) {
    this.safety = options.safety;
    this.inputs = options.inputs;
    this.clock = options.clock;
    this.sink = options.emit;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.context = {
      status: (channelId) => this.safety.channel(channelId),
      input: (channelId) => this.inputs.latestValue(channelId),
      hasHadData: (channelId) => this.noteData(channelId),
    };
    const channelIds = options.channelIds ?? options.safety.channels().map((status) => status.channelId);
    const now = this.clock.now();
    for (const output of options.outputs) {
      const rule = compileRule(output, channelIds);
      const interlock = compileInterlock(output, channelIds);
      const restored = output.kind === 'healthy' ? undefined : restoredEntry(options.restore, output.id);
      const state: OutputState = {
        output,
        rule,
        interlock,
        referenced: referencedChannels(rule, interlock),
        delivery: new Delivery({
          outputId: output.id,
          driver: options.drivers.get(output.id),
          feedback: output.feedback,
          readback: output.feedback ? undefined : options.readback?.get(output.id),
          clock: this.clock,
          inputs: this.inputs,
          onFailed: (detail) => this.emit('output-failed', state, { cause: detail }),
          onRecovered: (detail) => this.emit('output-recovered', state, { cause: detail }),
        }),
        restored,
        commanded: null,
        cause: 'not started',
        reasons: [],
        persistentReported: false,
        interlockReported: false,
      };
      if (restored?.override) {
        const { state: forced, by } = restored.override;
        const downtime = options.restoreDowntimeMs;
        let remainingMs = restored.override.remainingMs;
        if (downtime !== undefined && Number.isFinite(downtime) && downtime >= 0) {
          remainingMs -= downtime;
        } else if (forced === 'off' && (output.kind === 'fan' || output.kind === 'sounder')) {
          remainingMs = Math.min(remainingMs, RESTORED_FORCE_OFF_CAP_MS);
        }
        if (remainingMs > 0) {
          state.override = { state: forced, untilMono: now + Math.min(remainingMs, output.maxOverride), by };
        } else {
          state.expiredWhileStopped = { state: forced, by };
        }
      }
      this.states.set(output.id, state);
    }
  }

  /** Applies each output's onStartup; the rules take over at the first evaluate(). */
  start(): void {
    if (this.phase !== 'new') return;
    this.phase = 'running';
    for (const state of this.states.values()) {
      const output = state.output;
      if (state.expiredWhileStopped) {
        const { state: forced, by } = state.expiredWhileStopped;
        state.expiredWhileStopped = undefined;
        this.emit('override-expired', state, { by, cause: `force ${forced} by ${by} expired while the agent was stopped` });
      }
      if (state.interlock && output.onStartup !== 'hold') {
        // Not the safe or the restored state: a non-Ex fan may only start once the gas is known below the level.
        this.startWith(state, false, `startup: off until ${state.interlock.channelsText} are known below ${state.interlock.level}`);
        if (state.override) this.decide(state);
        continue;
      }
      if (output.kind === 'healthy' || state.override) {
        this.decide(state);
        continue;
      }
      const restored = state.restored;
      if (output.onStartup === 'persisted' && restored && restored.commanded !== null) {
        this.startWith(state, restored.commanded, `restored after restart: ${restored.cause}`);
      } else if (output.onStartup === 'persisted' || output.onStartup === 'safe') {
        const why = output.onStartup === 'safe' ? 'startup: safe state' : 'startup: safe state (nothing persisted)';
        this.startWith(state, safeState(output), why);
      } else {
        state.cause = 'startup: held as it is until the rules decide';
      }
    }
  }

  /**
   * Decides every output now and handles everything due: minimum on/off expiry, override expiry, feedback and
   * read-back deadlines, retries and re-asserts, persistent exceedance. Call after each reading batch and
   * periodically (the safety loop's tick); once per occasion is enough.
   */
  evaluate(): void {
    this.run();
  }

  /** @deprecated The same as evaluate(); call that once instead of both. Kept until agent/safety/loop.ts drops it. */
  tick(): void {
    this.evaluate();
  }

  force(outputId: string, state: OverrideState, forMs: number, by: string): ForceResult {
    const target = this.states.get(outputId);
    if (!target) return { ok: false, error: `no output "${outputId}"` };
    if (this.phase === 'stopped') return { ok: false, error: 'the outputs are shut down' };
    const output = target.output;
    if (output.kind === 'healthy') {
      return { ok: false, error: `${outputId} is the "system healthy" output: it follows the safety loop and cannot be forced` };
    }
    if (state !== 'on' && state !== 'off') return { ok: false, error: `state must be "on" or "off", not "${String(state)}"` };
    if (typeof by !== 'string' || by.trim() === '') return { ok: false, error: 'say who forces it (by)' };
    const longest = formatDuration(output.maxOverride);
    if (typeof forMs !== 'number' || !Number.isFinite(forMs) || forMs <= 0) {
      return { ok: false, error: `a force needs an expiry: give a duration above 0, at most ${longest} for ${outputId}` };
    }
    if (forMs > output.maxOverride) {
      return { ok: false, error: `${formatDuration(forMs)} is longer than ${outputId} may be forced (maxOverride ${longest})` };
    }
    if (state === 'on' && target.interlock && target.commanded !== true) {
      const holding = evaluateInterlock(target.interlock, this.context);
      if (holding.length > 0) {
        return {
          ok: false,
          error: `interlock: ${reasonList(holding)}; ${outputId} is ${target.interlock.text} (escalate instead)`,
        };
      }
    }
    const untilMono = this.clock.now() + forMs;
    target.override = { state, untilMono, by };
    target.reasons = evaluateRule(target.rule, this.context);
    const against =
      state === 'off' && target.reasons.length > 0
        ? ` while the rule wants it on (${reasonList(target.reasons)}): the operator's explicit decision`
        : '';
    this.emit('override-set', target, {
      by,
      cause: `forced ${state} by ${by} for ${formatDuration(forMs)}${against}`,
      ...triggerFields(target.reasons[0]),
    });
    if (this.phase === 'running') this.decide(target);
    return { ok: true, until: untilMono };
  }

  clearOverride(outputId: string, by: string): ClearResult {
    const target = this.states.get(outputId);
    if (!target) return { ok: false, error: `no output "${outputId}"` };
    if (!target.override) return { ok: false, error: `${outputId} is not forced` };
    const was = target.override;
    target.override = undefined;
    this.emit('override-cleared', target, { by, cause: `force ${was.state} by ${was.by} cleared by ${by}` });
    if (this.phase === 'running') this.decide(target);
    return { ok: true };
  }

  /** Sounders off until a new alarm is raised on a channel their rule refers to. */
  silence(by: string): { silenced: string[] } {
    const silenced: string[] = [];
    if (this.phase !== 'running') return { silenced };
    for (const state of this.states.values()) {
      if (state.output.kind !== 'sounder' || state.override || state.silenced) continue;
      state.reasons = evaluateRule(state.rule, this.context);
      if (state.commanded !== true && state.reasons.length === 0) continue;
      state.silenced = { by, keys: new Set(state.reasons.flatMap((reason) => reason.keys)) };
      silenced.push(state.output.id);
      this.emit('silenced', state, { by, cause: `silenced by ${by} until a new alarm`, ...triggerFields(state.reasons[0]) });
      this.apply(state, false, silencedCause(state));
    }
    return { silenced };
  }

  /** onShutdown: safe → the safe state is written and waited for (bounded); healthy outputs drop. */
  async shutdown(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    const writes: Promise<void>[] = [];
    for (const state of this.states.values()) {
      const output = state.output;
      if (output.kind === 'healthy') {
        writes.push(this.apply(state, false, 'agent stopping', undefined, true) ?? Promise.resolve());
      } else if (output.onShutdown === 'safe') {
        writes.push(this.apply(state, safeState(output), 'shutdown: safe state', undefined, true) ?? Promise.resolve());
      } else {
        state.cause = `shutdown: held (${state.cause})`;
      }
      state.delivery.stop();
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.shutdownTimeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.all(writes), timeout]);
    clearTimeout(timer);
  }

  /** For "healthy" outputs: on while the safety loop is alive. */
  setHealthy(alive: boolean): void {
    this.healthy = alive;
    if (this.phase !== 'running') return;
    for (const state of this.states.values()) if (state.output.kind === 'healthy') this.decide(state);
  }

  status(outputId: string): OutputStatus | undefined {
    const state = this.states.get(outputId);
    return state ? this.statusOf(state) : undefined;
  }

  statuses(): OutputStatus[] {
    return [...this.states.values()].map((state) => this.statusOf(state));
  }

  /** Plain JSON: the last commanded state and its cause, and overrides with their remaining time. */
  snapshot(): OutputSnapshot {
    const now = this.clock.now();
    const outputs: OutputSnapshot['outputs'] = {};
    for (const state of this.states.values()) {
      const entry: OutputSnapshotEntry = { commanded: state.commanded, cause: state.cause };
      if (state.override) {
        entry.override = {
          state: state.override.state,
          remainingMs: Math.max(0, state.override.untilMono - now),
          by: state.override.by,
        };
      }
      outputs[state.output.id] = entry;
    }
    return { version: 1, outputs };
  }

  private run(): void {
    if (this.phase === 'stopped') return;
    if (this.phase === 'new') this.start();
    const now = this.clock.now();
    for (const state of this.states.values()) {
      for (const channelId of state.referenced) this.noteData(channelId);
      if (state.override && now >= state.override.untilMono) {
        const was = state.override;
        state.override = undefined;
        this.emit('override-expired', state, { by: was.by, cause: `force ${was.state} by ${was.by} expired` });
      }
      this.decide(state);
      state.delivery.check();
    }
  }

  private decide(state: OutputState): void {
    const output = state.output;
    if (output.kind === 'healthy') {
      this.apply(state, this.healthy, this.healthy ? 'safety loop alive' : 'safety loop not alive');
      return;
    }
    const now = this.clock.now();
    const reasons = evaluateRule(state.rule, this.context);
    state.reasons = reasons;
    const holding = state.interlock ? evaluateInterlock(state.interlock, this.context) : [];
    state.interlockText = holding.length > 0 ? reasonList(holding) : undefined;
    const resounding = this.updateSilence(state);
    const ruleCause = describeReasons(reasons) + (resounding ? ' (new alarm after silence)' : '');

    if (state.override) {
      const { state: forced, by, untilMono } = state.override;
      const ruleNote = reasons.length > 0 ? `; rule wants on: ${ruleCause}` : '';
      const left = `${formatDuration(untilMono - now)} left`;
      if (forced === 'on' && holding.length > 0 && state.commanded !== true) {
        this.apply(state, state.commanded, `interlock: ${reasonList(holding)}; forced on by ${by} (${left}) but not started: escalate`);
      } else {
        this.apply(state, forced === 'on', `forced ${forced} by ${by}, ${left}${ruleNote}`, reasons[0]);
      }
    } else if (state.silenced) {
      this.apply(state, false, silencedCause(state));
    } else if (reasons.length > 0) {
      const safetyStart = (output.kind === 'fan' || output.kind === 'sounder') && reasons.some((reason) => reason.safety);
      if (state.commanded === true) {
        this.apply(state, true, ruleCause, reasons[0]);
      } else if (holding.length > 0) {
        this.apply(state, state.commanded, `interlock: ${reasonList(holding)}; not started (${ruleCause}): escalate`);
      } else if (state.minOffUntil !== undefined && now < state.minOffUntil && !safetyStart) {
        this.apply(state, false, `min off time (${formatDuration(state.minOffUntil - now)} left); then ${ruleCause}`);
      } else {
        this.apply(state, true, ruleCause, reasons[0]);
      }
    } else if (state.commanded === true && state.minOnUntil !== undefined && now < state.minOnUntil) {
      this.apply(state, true, `min on time (${formatDuration(state.minOnUntil - now)} left); rule: all clear`);
    } else {
      this.apply(state, false, 'rule: all clear');
    }

    this.reportInterlock(state, holding);
    this.reportPersistence(state, now);
  }

  /** Sounders: true when a silence just ended because of a new alarm. */
  private updateSilence(state: OutputState): boolean {
    const silenced = state.silenced;
    if (!silenced) return false;
    const active = new Set(state.reasons.flatMap((reason) => reason.keys));
    if ([...active].some((key) => !silenced.keys.has(key))) {
      state.silenced = undefined;
      return true;
    }
    if (active.size === 0) {
      state.silenced = undefined;
      return false;
    }
    for (const key of silenced.keys) if (!active.has(key)) silenced.keys.delete(key);
    return false;
  }

  /** Once per episode, whether the interlock holds the output off or finds it already running. */
  private reportInterlock(state: OutputState, holding: Reason[]): void {
    if (holding.length === 0) {
      state.interlockReported = false;
      return;
    }
    const wantsOn = state.reasons.length > 0 || state.override?.state === 'on';
    if (state.interlockReported || (!wantsOn && state.commanded !== true)) return;
    state.interlockReported = true;
    const what =
      state.commanded === true
        ? `${state.output.id} already running: kept on (switching it off is a spark as well)`
        : `${state.output.id} not started`;
    this.emit('interlock', state, {
      cause: `interlock: ${reasonList(holding)}; ${what}; escalate`,
      rule: state.interlock?.text,
      ...triggerFields(holding[0]),
    });
  }

  private reportPersistence(state: OutputState, now: number): void {
    const keptOnByRule = state.reasons.length > 0 && state.commanded === true && !state.override;
    if (!keptOnByRule) {
      state.ruleOnSince = undefined;
      state.persistentReported = false;
      return;
    }
    state.ruleOnSince ??= now;
    const after = state.output.persistentAfter;
    if (after === undefined || state.persistentReported || now - state.ruleOnSince < after) return;
    state.persistentReported = true;
    this.emit('persistent-exceedance', state, {
      cause: `on for ${formatDuration(now - state.ruleOnSince)} by its rule: ${describeReasons(state.reasons)}`,
      ...triggerFields(state.reasons[0]),
    });
  }

  private startWith(state: OutputState, on: boolean, cause: string): void {
    this.apply(state, on, cause);
    // A restart is not a switching cycle: an "off" start must not delay the first start by the rules.
    if (!on) state.minOffUntil = undefined;
  }

  /**
   * Records the cause, and commands the output when the state changes (or always, at shutdown). Returns the
   * write when there is one.
   */
  private apply(
    state: OutputState,
    target: boolean | null,
    cause: string,
    trigger?: Reason,
    always = false,
  ): Promise<void> | undefined {
    state.cause = cause;
    if (target === null || (target === state.commanded && !always)) return undefined;
    const changed = target !== state.commanded;
    const now = this.clock.now();
    state.commanded = target;
    const write = state.delivery.command(target);
    if (changed) {
      if (target) {
        state.onSinceMono = now;
        state.minOnUntil = now + state.output.minOn;
        state.minOffUntil = undefined;
      } else {
        state.onSinceMono = undefined;
        state.minOnUntil = undefined;
        state.minOffUntil = now + state.output.minOff;
      }
      this.emit(target ? 'output-on' : 'output-off', state, {
        cause,
        by: state.override?.by ?? state.silenced?.by,
        ...triggerFields(target ? trigger : undefined),
        rule: trigger?.rule ?? state.rule.text,
      });
    }
    return write;
  }

  private noteData(channelId: string): boolean {
    if (this.seenData.has(channelId)) return true;
    const status = this.safety.channel(channelId);
    if (!status || (status.value === null && !status.warmUp && !status.fault)) return false;
    this.seenData.add(channelId);
    return true;
  }

  private statusOf(state: OutputState): OutputStatus {
    const now = this.clock.now();
    const status: OutputStatus = {
      outputId: state.output.id,
      kind: state.output.kind,
      commanded: state.commanded,
      cause: state.cause,
      ruleWants: state.reasons.length > 0,
      silenced: state.silenced !== undefined,
      feedback: state.output.feedback ? state.delivery.state : 'none',
      delivery: state.delivery.state,
    };
    if (state.override) status.override = { ...state.override, remainingMs: Math.max(0, state.override.untilMono - now) };
    const lastWriteError = state.delivery.lastWriteError;
    if (lastWriteError !== undefined) status.lastWriteError = lastWriteError;
    if (state.onSinceMono !== undefined) status.onSinceMono = state.onSinceMono;
    if (state.interlockText !== undefined) status.interlock = state.interlockText;
    return status;
  }

  private emit(
    type: SafetyEvent['type'],
    state: OutputState,
    fields: Partial<Omit<SafetyEvent, 'type' | 'outputId' | 'wallTs' | 'monoTs' | 'clockSynced'>>,
  ): void {
    const event: SafetyEvent = {
      type,
      outputId: state.output.id,
      value: null,
      rule: state.rule.text,
      ...dropUndefined(fields),
      ...this.clock.stamp(),
    };
    try {
      this.sink(event);
    } catch {
      // The sink belongs to the recorder and the uplink; its failure must not stop the next output's decision.
    }
  }
}

function safeState(output: Output): boolean {
  return (output.safeState ?? (output.kind === 'fan' ? 'on' : 'off')) === 'on';
}

function silencedCause(state: OutputState): string {
  return `silenced by ${state.silenced?.by ?? 'operator'} until a new alarm`;
}

/** "rule: tank1.ch4 at L1 (23 %LEL)", "fail-safe: tank1.h2s in fault (timeout)", or both. */
function describeReasons(reasons: readonly Reason[]): string {
  const ruled = reasons.filter((reason) => reason.condition !== 'fail-safe');
  const failSafe = reasons.filter((reason) => reason.condition === 'fail-safe');
  const parts: string[] = [];
  if (ruled.length > 0) parts.push(`rule: ${reasonList(ruled)}`);
  if (failSafe.length > 0) parts.push(`fail-safe: ${reasonList(failSafe)}`);
  return parts.length > 0 ? parts.join('; ') : 'rule: all clear';
}

function reasonList(reasons: readonly Reason[]): string {
  const shown = reasons.slice(0, MAX_REASONS_IN_CAUSE).map((reason) => reason.text);
  const more = reasons.length - shown.length;
  return shown.join(', ') + (more > 0 ? ` (+${more} more)` : '');
}

function triggerFields(reason: Reason | undefined): Partial<SafetyEvent> {
  if (!reason) return {};
  return dropUndefined({
    channelId: reason.channelId,
    level: reason.level,
    grade: reason.grade,
    value: reason.value,
    unit: reason.unit,
  });
}

function dropUndefined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
