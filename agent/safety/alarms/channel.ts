import type { AlarmLevelName } from '../../../config/schema/index.js';
import type { QualityReason, Reading } from '../../../drivers/reading.js';
import type { SafetyEvent } from '../events.js';
import { CrackTracker, type GradeChange } from './crack.js';
import { formatDuration, formatNumber, withUnit } from './format.js';
import { LevelTracker, type LevelStep } from './level.js';
import type { ChannelSnapshot } from './snapshot.js';
import type { ChannelSpec } from './spec.js';
import type { ChannelSafetyStatus } from './status.js';
import { conversion, convert, type Conversion } from './units.js';

/** An event as a monitor states it; the engine adds the time. */
export type EventDraft = Omit<SafetyEvent, 'wallTs' | 'monoTs' | 'clockSynced'>;

export interface MonitorContext {
  emit(event: EventDraft): void;
  /** A level or grade was raised or cleared: the set of accelerated devices may have changed. */
  accelerationChanged(): void;
}

/**
 * Why a channel is in fault, which decides what ends it: failures, a probe status, a unit, silence or a warm-up
 * past its limit end on the next good reading; stuck ends when the value moves; settings the engine cannot use never end.
 */
type FaultKind = 'failures' | 'status' | 'unit' | 'stuck' | 'silent' | 'warm-up' | 'baseline' | 'settings';

/** The reason of a crack gauge whose stored baseline did not survive a restart. */
const BASELINE_LOST = 'baseline lost: set it again';

/** Failed transactions: a fault only after `faultAfter` of them in a row. Any other bad reading is a fault at once. */
const TRANSPORT_FAILURES: ReadonlySet<QualityReason> = new Set<QualityReason>([
  'timeout',
  'crc',
  'framing',
  'exception',
  'port-down',
  'breaker-open',
]);

const STATUS_WORDS: Partial<Record<QualityReason, string>> = {
  'sensor-fault': 'the probe reports a sensor fault',
  'sensor-lost': 'the probe has lost its sensor',
  'needs-calibration': 'the probe needs calibration',
  'data-error': 'the probe reports a data error',
  sentinel: 'the probe sent its "no data" value',
  'out-of-range': 'the value is below the physical range',
  stuck: 'the driver reports the value stuck',
};

/** Keeps a unit conversion for as long as readings keep coming in the same unit (no work per reading). */
class UnitCache {
  private unit: string | undefined;
  private result: Conversion = { factor: 1 };

  constructor(private readonly target: (unit: string) => Conversion) {}

  get(unit: string): Conversion {
    if (unit !== this.unit) {
      this.unit = unit;
      this.result = this.target(unit);
    }
    return this.result;
  }
}

/**
 * Everything the engine decides for one channel: fault, warm-up, over-range, its alarm levels and its crack
 * grade. Synchronous and allocation-free per reading except when something changes (an event).
 */
export class ChannelMonitor {
  readonly channelId: string;
  readonly deviceId: string;
  readonly L1: LevelTracker | undefined;
  readonly L2: LevelTracker | undefined;
  readonly crack: CrackTracker | undefined;

  private value: number | null = null;
  private unit: string;
  private compared: number | null = null;
  private crackValue: number | null = null;
  private lastReadingAt: number;
  private failures = 0;
  private fault: FaultKind | null = null;
  private faultReason: string | undefined;
  private warmUp = false;
  private warmUpSince = 0;
  private overRange = false;
  /** The last reading was good and evaluated: time may complete its delays and slide its windows. */
  private evaluable = false;
  private stuckValue: number | null = null;
  private stuckSince = 0;
  private since: number;
  private readonly alarmUnits: UnitCache | undefined;
  private readonly crackUnits: UnitCache | undefined;

  constructor(
    readonly spec: ChannelSpec,
    private readonly context: MonitorContext,
    now: number,
  ) {
    this.channelId = spec.channelId;
    this.deviceId = spec.deviceId;
    this.unit = spec.unit;
    this.lastReadingAt = now;
    this.since = now;
    const alarm = spec.alarm;
    if (alarm) {
      if (alarm.L1) this.L1 = new LevelTracker(alarm.L1);
      this.L2 = new LevelTracker(alarm.L2);
      this.alarmUnits = new UnitCache((unit) =>
        alarm.setpointUnit === undefined ? { factor: 1 } : conversion(unit, alarm.setpointUnit, alarm.units, 'setpoints'),
      );
    }
    if (spec.crack) {
      this.crack = new CrackTracker(spec.crack, spec.channelId);
      this.crackUnits = new UnitCache((unit) => conversion(unit, 'mm', {}, 'crack thresholds'));
    }
    const problem = spec.problems[0];
    if (problem !== undefined) this.enterFault('settings', problem, `${this.channelId} in fault: ${problem}`, now);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Readings and time

  onReading(reading: Reading, now: number): void {
    this.lastReadingAt = now;
    if (reading.unit !== '') this.unit = reading.unit;
    if (reading.reason === 'over-range') this.onOverRange(reading, now);
    else if (reading.reason === 'warm-up') this.onWarmUp(reading, now);
    else if (reading.quality === 'bad' || reading.value === null || !Number.isFinite(reading.value)) this.onFailure(reading, now);
    else this.onValue(reading.value, now);
  }

  tick(now: number): void {
    if (this.fault === null && now - this.lastReadingAt >= this.spec.silentAfterMs) {
      this.evaluable = false;
      const silence = formatDuration(this.spec.silentAfterMs);
      this.enterFault('silent', 'silent', `${this.channelId} in fault: no reading for ${silence}`, now);
      return;
    }
    if (this.warmUp) this.checkWarmUpLimit(now, false);
    if (!this.evaluable) return;
    if (this.isStuck(now)) return;
    if (this.L2 && this.compared !== null) {
      const s1 = this.L1 ? this.L1.elapse(now) : null;
      const s2 = this.L2.elapse(now);
      if (s1 !== null || s2 !== null) this.applySteps(s1, s2, this.compared, now);
    }
  }

  private onValue(raw: number, now: number): void {
    this.failures = 0;
    this.endWarmUp(now);
    this.value = raw;

    let alarmValue: number | null = null;
    if (this.alarmUnits) {
      const c = this.alarmUnits.get(this.unit);
      if ('error' in c) return this.unitFault(c.error, now);
      alarmValue = convert(raw, c.factor);
    }
    let crackValue: number | null = null;
    if (this.crackUnits) {
      const c = this.crackUnits.get(this.unit);
      if ('error' in c) return this.unitFault(c.error, now);
      crackValue = convert(raw, c.factor);
    }
    this.compared = alarmValue;
    this.crackValue = crackValue;

    if (this.spec.stuckAfterMs !== undefined && raw !== this.stuckValue) {
      this.stuckValue = raw;
      this.stuckSince = now;
    }
    this.evaluable = true;
    if (this.isStuck(now)) return;
    if (this.fault === 'settings') {
      this.evaluable = false;
      return;
    }
    if (this.fault !== null && this.fault !== 'baseline') this.clearFault(now);
    if (this.overRange) {
      this.overRange = false;
      this.since = now;
    }

    if (alarmValue !== null) {
      const s1 = this.L1 ? this.L1.sample(alarmValue, now) : null;
      const s2 = this.L2!.sample(alarmValue, now);
      this.applySteps(s1, s2, alarmValue, now);
    }
    if (this.crack && crackValue !== null) {
      if (this.fault === 'baseline') {
        // Kept for the windows and for setBaseline, but never taken as a new zero.
        this.crack.record(now, crackValue);
      } else if (this.crack.sample(now, crackValue)) {
        this.context.emit({
          type: 'baseline-set',
          channelId: this.channelId,
          value: crackValue,
          unit: 'mm',
          rule: `${this.channelId} baseline taken from its first good reading`,
          cause: 'first good reading',
        });
      }
      this.applyGrade(this.crack.evaluate(), now);
    }
  }

  private onWarmUp(reading: Reading, now: number): void {
    this.failures = 0;
    this.evaluable = false;
    this.value = reading.value;
    this.compared = this.comparable(reading.value);
    if (this.warmUp) {
      this.checkWarmUpLimit(now, true);
      return;
    }
    this.warmUp = true;
    this.warmUpSince = now;
    this.since = now;
    this.L1?.forgetPending();
    this.L2?.forgetPending();
    this.context.emit({
      type: 'warm-up',
      channelId: this.channelId,
      value: reading.value,
      unit: this.unit,
      rule: `${this.channelId} warming up: alarms suppressed`,
      ...(reading.detail ? { cause: reading.detail } : {}),
    });
  }

  /**
   * Over-range is the highest alarm: L2 at once, without delay, latched. A crack gauge past the end of its range
   * is graded on the value it reports (the real displacement is at least that much), but never takes it as a
   * baseline.
   */
  private onOverRange(reading: Reading, now: number): void {
    this.failures = 0;
    this.evaluable = false;
    this.endWarmUp(now);
    this.value = reading.value;
    this.compared = this.comparable(reading.value);
    if (!this.overRange && (this.L2 || this.crack)) {
      this.overRange = true;
      this.since = now;
    }
    this.gradeOverRange(reading.value, now);
    const L2 = this.L2;
    if (!L2) return;
    const rule = this.spec.alarm!.overRangeRule;
    const cause = reading.detail ?? 'the probe reports over-range';
    if (this.L1 && !this.L1.raised) this.raiseLevel(this.L1, now, false, `${this.channelId} over-range (L1)`, cause);
    if (!L2.raised) this.raiseLevel(L2, now, true, rule, cause);
    else L2.latched = true;
  }

  private gradeOverRange(value: number | null, now: number): void {
    const crack = this.crack;
    if (!crack || this.fault === 'settings' || value === null || !Number.isFinite(value) || crack.baseline === null) return;
    const c = this.crackUnits!.get(this.unit);
    if ('error' in c) return;
    this.crackValue = convert(value, c.factor);
    crack.sample(now, this.crackValue);
    this.applyGrade(crack.evaluate(), now);
  }

  /**
   * A warm-up past its limit is a fault (fail-safe outputs, no longer "heard"); it ends with the first good
   * reading. `fromReading`: a warm-up reading is the probe's own word, a better reason than an earlier fault's.
   */
  private checkWarmUpLimit(now: number, fromReading: boolean): void {
    const limit = this.spec.maxWarmUpMs;
    if (now - this.warmUpSince < limit || this.fault === 'warm-up' || this.fault === 'baseline' || this.fault === 'settings') return;
    const reason = `warm-up too long (${formatNumber(limit / 60_000)} min)`;
    if (this.fault === null) {
      this.enterFault('warm-up', reason, `${this.channelId} in fault: ${reason}`, now);
    } else if (fromReading) {
      this.fault = 'warm-up';
      this.faultReason = reason;
    }
  }

  private onFailure(reading: Reading, now: number): void {
    this.value = null;
    this.compared = null;
    this.crackValue = null;
    this.evaluable = false;
    const reason = reading.reason;
    if (reason !== undefined && TRANSPORT_FAILURES.has(reason)) {
      this.failures++;
      if (this.fault === 'failures' || this.fault === 'silent') {
        this.fault = 'failures';
        this.faultReason = reason;
      }
      else if (this.fault === null && this.failures >= this.spec.faultAfter) {
        const rule = `${this.channelId} in fault after ${this.failures} failed polls in a row (${reason})`;
        this.enterFault('failures', reason, rule, now, reading.detail);
      }
      return;
    }
    this.failures = 0;
    const why = reason ?? 'bad';
    if (this.fault === 'settings' || this.fault === 'baseline') return;
    if (this.fault !== null) {
      // The probe's own word is a better reason than the failures or silence that came before it.
      this.fault = 'status';
      this.faultReason = why;
      return;
    }
    const words = (reason && STATUS_WORDS[reason]) ?? `bad reading (${why})`;
    this.enterFault('status', why, `${this.channelId} in fault: ${words}`, now, reading.detail);
  }

  private unitFault(error: string, now: number): void {
    this.compared = null;
    this.crackValue = null;
    this.evaluable = false;
    if (this.fault === 'settings' || this.fault === 'baseline') return;
    if (this.fault !== null) {
      this.fault = 'unit';
      this.faultReason = error;
      return;
    }
    this.enterFault('unit', error, `${this.channelId} in fault: ${error}`, now);
  }

  /** A good value unchanged for stuckAfter: a frozen sensor. Ends when the value moves. */
  private isStuck(now: number): boolean {
    const limit = this.spec.stuckAfterMs;
    if (limit === undefined || this.stuckValue === null || now - this.stuckSince < limit) return false;
    this.evaluable = false;
    if (this.fault === null) {
      this.enterFault('stuck', 'stuck', `${this.channelId} in fault: value unchanged for ${formatDuration(limit)}`, now);
    }
    return true;
  }

  private comparable(value: number | null): number | null {
    if (value === null || !this.alarmUnits) return null;
    const c = this.alarmUnits.get(this.unit);
    return 'error' in c ? null : convert(value, c.factor);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Fault and warm-up

  private enterFault(kind: FaultKind, reason: string, rule: string, now: number, cause?: string): void {
    this.fault = kind;
    this.faultReason = reason;
    this.since = now;
    // Evidence gathered before the gap is not evidence after it: delays and the stuck timer start again.
    this.L1?.forgetPending();
    this.L2?.forgetPending();
    if (kind !== 'stuck') this.stuckValue = null;
    this.context.emit({
      type: 'fault',
      channelId: this.channelId,
      value: this.value,
      unit: this.unit,
      rule,
      ...(cause ? { cause } : {}),
    });
  }

  private clearFault(now: number, rule = `${this.channelId} reading good again`): void {
    const was = this.faultReason;
    this.fault = null;
    this.faultReason = undefined;
    this.since = now;
    this.context.emit({
      type: 'fault-cleared',
      channelId: this.channelId,
      value: this.value,
      unit: this.unit,
      rule,
      ...(was ? { cause: `was in fault: ${was}` } : {}),
    });
  }

  private endWarmUp(now: number): void {
    if (!this.warmUp) return;
    this.warmUp = false;
    this.since = now;
    this.context.emit({
      type: 'warm-up-done',
      channelId: this.channelId,
      value: this.value,
      unit: this.unit,
      rule: `${this.channelId} warm-up done: alarms active`,
    });
  }

  // ------------------------------------------------------------------------------------------------------------
  // Levels

  /** Levels are nested: L2 raises L1 with it, and L1 does not clear while L2 is raised. */
  private applySteps(s1: LevelStep, s2: LevelStep, value: number, now: number): void {
    const L1 = this.L1;
    const L2 = this.L2!;
    if (s2 === 'raise') {
      if (L1 && !L1.raised) this.raiseLevel(L1, now, false, L1.spec.raiseRule);
      this.raiseLevel(L2, now, false, L2.spec.raiseRule);
    } else if (s1 === 'raise' && L1) {
      this.raiseLevel(L1, now, false, L1.spec.raiseRule);
    }
    this.tryClear(L2, s2, value, now);
    if (L1 && !L2.raised) this.tryClear(L1, s1, value, now);
  }

  private tryClear(level: LevelTracker, step: LevelStep, value: number, now: number): void {
    if (!level.raised) return;
    if (level.latched) {
      if (level.acknowledged && this.latchReleased(level, value)) this.clearLevel(level, now, level.spec.clearRule);
    } else if (step === 'clear') {
      this.clearLevel(level, now, level.spec.clearRule);
    }
  }

  /** A latched L2 needs the value back below L1 (its own clear level when there is no L1). */
  private latchReleased(level: LevelTracker, value: number): boolean {
    const reference = level === this.L2 && this.L1 ? this.L1 : level;
    return !this.overRange && reference.inClearZone(value);
  }

  private raiseLevel(level: LevelTracker, now: number, forceLatch: boolean, rule: string, cause?: string): void {
    level.raise(this.compared, forceLatch);
    this.since = now;
    this.context.emit({
      type: 'alarm-raised',
      channelId: this.channelId,
      level: level.spec.name,
      value: this.compared,
      unit: this.alarmUnit(),
      ...finiteSetpoint(level.crossedLimit),
      rule,
      ...(cause ? { cause } : this.conversionCause()),
    });
    this.context.accelerationChanged();
  }

  private clearLevel(level: LevelTracker, now: number, rule: string, by?: string): void {
    const limit = level.crossedLimit;
    level.clear();
    this.since = now;
    this.context.emit({
      type: 'alarm-cleared',
      channelId: this.channelId,
      level: level.spec.name,
      value: this.compared,
      unit: this.alarmUnit(),
      ...finiteSetpoint(limit),
      rule,
      ...(by ? { by, cause: `reset by ${by}` } : this.conversionCause()),
    });
    this.context.accelerationChanged();
  }

  private alarmUnit(): string {
    return this.spec.alarm?.setpointUnit ?? this.unit;
  }

  /** Where the compared value is a conversion, the event says what the probe read. */
  private conversionCause(): { cause?: string } {
    const unit = this.spec.alarm?.setpointUnit;
    if (this.value === null || unit === undefined || this.compared === this.value) return {};
    return { cause: `probe reads ${withUnit(this.value, this.unit)}` };
  }

  /** A good, current value that can show a latched condition has gone. */
  private canConfirmClear(): boolean {
    return this.fault === null && !this.warmUp && !this.overRange && this.evaluable && this.compared !== null;
  }

  private topLevel(): LevelTracker | undefined {
    if (this.L2?.raised) return this.L2;
    if (this.L1?.raised) return this.L1;
    return undefined;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Crack grades

  private applyGrade(change: GradeChange | null, now: number): void {
    if (!change) return;
    this.since = now;
    this.context.emit({
      type: 'crack-grade',
      channelId: this.channelId,
      grade: change.to,
      value: change.value,
      unit: change.unit,
      ...finiteSetpoint(change.threshold),
      rule: change.rule,
      ...(change.from ? { cause: `was ${change.from}` } : {}),
    });
    this.context.accelerationChanged();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Operator actions

  /** True when something was newly acknowledged. A latched level whose value is already back clears now. */
  acknowledge(by: string, now: number): boolean {
    let changed = false;
    for (const level of [this.L2, this.L1]) {
      if (level?.raised && !level.acknowledged) {
        level.acknowledged = true;
        changed = true;
      }
    }
    const crack = this.crack;
    if (crack && crack.rank > 0 && !crack.acknowledged) {
      crack.acknowledged = true;
      changed = true;
    }
    if (!changed) return false;
    this.since = now;
    const top = this.topLevel();
    const grade = crack && crack.rank > 0 ? crack.grade : undefined;
    this.context.emit({
      type: 'alarm-acknowledged',
      channelId: this.channelId,
      ...(top ? { level: top.spec.name } : {}),
      ...(grade ? { grade } : {}),
      value: top ? this.compared : (crack?.displacement ?? null),
      unit: top ? this.alarmUnit() : 'mm',
      ...(top ? finiteSetpoint(top.crossedLimit) : {}),
      rule: top ? top.spec.raiseRule : `${this.channelId} crack grade ${grade ?? ''}`.trim(),
      by,
    });
    if (this.canConfirmClear() && this.L2) {
      this.tryClear(this.L2, null, this.compared!, now);
      // L1 was only waiting for L2: its own clear condition may have held all along.
      const L1 = this.L1;
      if (L1 && !this.L2.raised) this.tryClear(L1, L1.clearDue(now) ? 'clear' : null, this.compared!, now);
    }
    return true;
  }

  hasLatch(): boolean {
    return Boolean(this.L2?.latched && this.L2.raised) || Boolean(this.L1?.latched && this.L1.raised);
  }

  /** Clears latched levels when a good reading shows the condition has gone; otherwise says why not. */
  reset(by: string, now: number): { ok: true } | { ok: false; why: string } {
    if (!this.hasLatch()) return { ok: false, why: 'nothing latched' };
    if (this.fault !== null) {
      return { ok: false, why: `in fault (${this.faultReason ?? 'unknown'}): no good reading shows the condition has gone` };
    }
    if (this.warmUp) return { ok: false, why: 'warming up: no good reading yet shows the condition has gone' };
    if (this.overRange) return { ok: false, why: 'still over-range' };
    if (!this.canConfirmClear()) return { ok: false, why: 'no good reading yet shows the condition has gone' };
    const value = this.compared!;
    for (const level of [this.L2, this.L1]) {
      if (!level?.raised || !level.latched || this.latchReleased(level, value)) continue;
      const reference = level === this.L2 && this.L1 ? this.L1 : level;
      return {
        ok: false,
        why:
          `${this.channelId} is at ${withUnit(value, this.alarmUnit())}: ` +
          `${level.spec.name} clears only when ${this.channelId} ${reference.spec.clearCondition}`,
      };
    }
    const top = this.topLevel()!;
    this.since = now;
    this.context.emit({
      type: 'alarm-reset',
      channelId: this.channelId,
      level: top.spec.name,
      value,
      unit: this.alarmUnit(),
      ...finiteSetpoint(top.crossedLimit),
      rule: top.spec.clearRule,
      by,
    });
    for (const level of [this.L2, this.L1]) {
      if (!level?.raised) continue;
      if (level.latched || level.inClearZone(value)) this.clearLevel(level, now, level.spec.clearRule, by);
    }
    return { ok: true };
  }

  setBaseline(by: string, value: number | undefined, now: number): { ok: true; baseline: number } | { ok: false; error: string } {
    const crack = this.crack;
    if (!crack) return { ok: false, error: `${this.channelId} has no crack grading: there is no baseline to set` };
    let baseline = value;
    if (baseline === undefined) {
      if (this.fault !== null && this.fault !== 'baseline') {
        return { ok: false, error: `${this.channelId} is in fault (${this.faultReason ?? 'unknown'}): no current value to take as the baseline` };
      }
      if (!this.evaluable || this.crackValue === null) {
        return { ok: false, error: `${this.channelId} has no current good reading to take as the baseline` };
      }
      baseline = this.crackValue;
    }
    if (!Number.isFinite(baseline)) return { ok: false, error: `baseline must be a finite number, got ${baseline}` };
    crack.setBaseline(baseline, 'command');
    this.context.emit({
      type: 'baseline-set',
      channelId: this.channelId,
      value: baseline,
      unit: 'mm',
      rule: `${this.channelId} baseline set to ${withUnit(baseline, 'mm')}${value === undefined ? ' (its current value)' : ''}`,
      by,
    });
    if (this.fault === 'baseline') this.clearFault(now, `${this.channelId} baseline set again`);
    if (this.evaluable) this.applyGrade(crack.evaluate(), now);
    return { ok: true, baseline };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Views and persistence

  raisedLevel(): AlarmLevelName | undefined {
    return this.topLevel()?.spec.name;
  }

  status(): ChannelSafetyStatus {
    const top = this.topLevel();
    const crack = this.crack;
    const raisedSomething = top !== undefined || (crack !== undefined && crack.rank > 0);
    const acknowledged =
      raisedSomething &&
      (!this.L2?.raised || this.L2.acknowledged) &&
      (!this.L1?.raised || this.L1.acknowledged) &&
      (!crack || crack.rank === 0 || crack.acknowledged);
    const status: ChannelSafetyStatus = {
      channelId: this.channelId,
      deviceId: this.deviceId,
      level: top ? top.spec.name : 'normal',
      overRange: this.overRange,
      latched: this.hasLatch(),
      acknowledged,
      fault: this.fault !== null,
      warmUp: this.warmUp,
      grade: crack ? crack.grade : null,
      value: this.value,
      unit: this.unit,
      since: this.since,
    };
    if (this.faultReason !== undefined) status.faultReason = this.faultReason;
    if (this.compared !== null) status.compared = { value: this.compared, unit: this.alarmUnit() };
    if (crack) {
      if (crack.baseline !== null) status.baseline = crack.baseline;
      const displacement = crack.displacement;
      if (displacement !== undefined) status.displacement = displacement;
      if (crack.rate !== undefined) status.ratePerUnit = crack.rate;
      if (crack.tangentAngle !== undefined) status.tangentAngle = crack.tangentAngle;
    }
    return status;
  }

  /** Only what must survive a restart; undefined when there is nothing. */
  snapshot(now: number): ChannelSnapshot | undefined {
    const entry: ChannelSnapshot = {};
    const levels: Array<{ level: AlarmLevelName; acknowledged: boolean }> = [];
    for (const level of [this.L1, this.L2]) {
      if (level?.raised && level.latched) levels.push({ level: level.spec.name, acknowledged: level.acknowledged });
    }
    if (levels.length > 0) entry.latched = { levels, overRange: this.overRange };
    const crack = this.crack;
    if (crack) {
      if (crack.baseline !== null && crack.baselineSource !== null && crack.baselineSource !== 'config') {
        entry.baseline = { value: crack.baseline, source: crack.baselineSource };
      }
      const history = crack.history?.entries().map(([time, value]): [number, number] => [Math.max(0, now - time), value]) ?? [];
      if (crack.rank > 0 || history.length > 0) entry.crack = { grade: crack.grade, acknowledged: crack.acknowledged, history };
    }
    return entry.latched || entry.baseline || entry.crack ? entry : undefined;
  }

  /** True when a restart must find this channel's baseline again: one taken from a reading or set by command. */
  keepsBaseline(): boolean {
    const crack = this.crack;
    if (!crack) return false;
    if (this.fault === 'baseline') return true;
    return crack.baseline !== null && crack.baselineSource !== null && crack.baselineSource !== 'config';
  }

  /**
   * The snapshot said this gauge had a baseline, and it did not come back: held in fault until one is set by
   * command, never re-zeroed on the next reading (the displacement so far would silently vanish).
   */
  baselineLost(now: number): void {
    const crack = this.crack;
    if (!crack || this.fault === 'settings') return;
    crack.forgetBaseline();
    this.enterFault('baseline', BASELINE_LOST, `${this.channelId} in fault: ${BASELINE_LOST}`, now);
  }

  /** `downtime`: how long the gateway was down, where both wall clocks can say so (else 0); ages count back from now. */
  restore(entry: ChannelSnapshot, now: number, downtime: number): void {
    if (entry.latched && this.L2) {
      let restoredL2: boolean | undefined;
      for (const { level, acknowledged } of entry.latched.levels) {
        const tracker = level === 'L1' ? this.L1 : this.L2;
        if (!tracker) continue;
        tracker.raise(null, true);
        tracker.acknowledged = acknowledged;
        if (level === 'L2') restoredL2 = acknowledged;
      }
      if (restoredL2 !== undefined && this.L1 && !this.L1.raised) {
        this.L1.raise(null);
        this.L1.acknowledged = restoredL2;
      }
      this.overRange = entry.latched.overRange;
      this.since = now;
      this.context.accelerationChanged();
    }
    if (this.crack && (entry.baseline || entry.crack)) {
      this.crack.restore({
        ...(entry.baseline ? { baseline: entry.baseline } : {}),
        ...(entry.crack
          ? {
              grade: entry.crack.grade,
              acknowledged: entry.crack.acknowledged,
              history: entry.crack.history.map(([age, value]): [number, number] => [now - downtime - age, value]),
            }
          : {}),
      });
      this.since = now;
      this.context.accelerationChanged();
    }
  }
}

function finiteSetpoint(limit: number): { setpoint?: number } {
  return Number.isFinite(limit) ? { setpoint: limit } : {};
}
