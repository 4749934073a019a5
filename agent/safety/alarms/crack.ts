import type { CrackGrade } from '../../../config/schema/index.js';
import { formatDuration, formatNumber } from './format.js';
import { SampleHistory } from './history.js';
import { GRADES, type CrackSpec, type GradeThresholds } from './spec.js';

/**
 * Warning grades of one crack gauge, from three criteria (the worst wins), each measured at the latest sample t:
 * - cumulative: |S(t)|, S = value − baseline, in mm;
 * - rate: |S(t) − S(t − W)| / W, in mm/h or mm/d (S(t − W) interpolated between the samples around it);
 * - improved tangent angle: T = |S| / v (days), α = arctan(ΔT / Δt) over Δt = W in days, in degrees.
 *   Steady creep at v gives ΔT = Δt, α = 45°; acceleration steepens it towards 90°.
 * The windows end at the latest sample, not at "now": between samples nothing moves, so a grade cannot flap
 * while the window slides between two readings. Readings that stop put the channel in fault, which keeps it.
 * Until the history covers a window, that criterion grades nothing.
 * A grade is kept until its criterion falls clearly below the threshold: 10 % below for cumulative and rate,
 * 1° below for the angle (CLEAR_FRACTION, CLEAR_DEGREES), so a value hovering at a threshold does not flap.
 */

export type Criterion = 'cumulative' | 'rate' | 'tangent';
const CRITERIA: readonly Criterion[] = ['cumulative', 'rate', 'tangent'];

/** Hysteresis of cumulative and rate grades: a grade clears below 90 % of its threshold. */
export const CLEAR_FRACTION = 0.1;
/** Hysteresis of tangent-angle grades, in degrees. */
export const CLEAR_DEGREES = 1;

const DAY_MS = 86_400_000;
const PER_MS = { h: 3_600_000, d: DAY_MS } as const;

export type BaselineSource = 'first-reading' | 'config' | 'command';

export interface GradeChange {
  from: CrackGrade | null;
  to: CrackGrade | null;
  criterion: Criterion;
  /** The criterion's value and unit, and the threshold it was held against. */
  value: number;
  unit: string;
  threshold: number;
  rule: string;
}

interface CriterionState {
  rank: number;
  value: number | undefined;
}

export class CrackTracker {
  baseline: number | null = null;
  baselineSource: BaselineSource | null = null;
  /** 0 = no grade, 1..4 = blue..red. */
  rank = 0;
  acknowledged = false;
  readonly history: SampleHistory | null;
  private latest: number | null = null;
  private latestAt = 0;
  private readonly states: Record<Criterion, CriterionState> = {
    cumulative: { rank: 0, value: undefined },
    rate: { rank: 0, value: undefined },
    tangent: { rank: 0, value: undefined },
  };

  constructor(
    readonly spec: CrackSpec,
    private readonly channelId: string,
  ) {
    if (typeof spec.baseline === 'number') {
      this.baseline = spec.baseline;
      this.baselineSource = 'config';
    }
    this.history = spec.historySpanMs > 0 ? new SampleHistory(spec.historySpanMs) : null;
  }

  get grade(): CrackGrade | null {
    return this.rank === 0 ? null : GRADES[this.rank - 1]!;
  }

  get displacement(): number | undefined {
    return this.latest === null || this.baseline === null ? undefined : this.latest - this.baseline;
  }

  get rate(): number | undefined {
    return this.states.rate.value;
  }

  get tangentAngle(): number | undefined {
    return this.states.tangent.value;
  }

  /** True when this sample became the baseline ('first-reading'). */
  sample(now: number, value: number): boolean {
    this.latest = value;
    this.latestAt = now;
    this.history?.push(now, value);
    if (this.baseline !== null) return false;
    this.baseline = value;
    this.baselineSource = 'first-reading';
    return true;
  }

  /** Keeps a sample for the windows without ever taking it as the baseline (a baseline that was lost). */
  record(now: number, value: number): void {
    this.latest = value;
    this.latestAt = now;
    this.history?.push(now, value);
  }

  /** No baseline, not even the site file's number: one must be set by command. */
  forgetBaseline(): void {
    this.baseline = null;
    this.baselineSource = null;
  }

  setBaseline(value: number, source: BaselineSource): void {
    this.baseline = value;
    this.baselineSource = source;
  }

  /** Restores what was persisted: baseline, grade and acknowledgement, and the history shifted to this process's clock. */
  restore(state: {
    baseline?: { value: number; source: BaselineSource };
    grade?: CrackGrade | null;
    acknowledged?: boolean;
    history?: ReadonlyArray<readonly [number, number]>;
  }): void {
    const configured = typeof this.spec.baseline === 'number';
    // A number written in the site file wins over one taken automatically; a baseline set by command wins over both.
    if (state.baseline && (!configured || state.baseline.source === 'command')) {
      this.setBaseline(state.baseline.value, state.baseline.source);
    }
    if (state.history && this.history) {
      for (const [time, value] of state.history) this.history.push(time, value);
      this.latest = this.history.latestValue() ?? null;
      this.latestAt = this.history.latestTime() ?? 0;
    }
    if (state.grade) {
      this.rank = GRADES.indexOf(state.grade) + 1;
      // Each criterion starts from the restored grade, so hysteresis holds it until evidence says otherwise.
      if (this.spec.cumulative) this.states.cumulative.rank = this.rank;
      if (this.spec.rate) this.states.rate.rank = this.rank;
      if (this.spec.tangent) this.states.tangent.rank = this.rank;
      this.acknowledged = state.acknowledged ?? false;
    }
  }

  /** Re-grades at the latest sample; the change, if the grade moved. */
  evaluate(): GradeChange | null {
    if (this.latest === null || this.baseline === null) return null;
    const now = this.latestAt;
    const s = this.spec;
    const previousRank = this.rank;
    const previousDecider = this.decider();

    if (s.cumulative) this.grade1('cumulative', Math.abs(this.latest - this.baseline), s.cumulative.thresholds, fraction);
    if (s.rate) {
      const then = this.history?.valueAt(now - s.rate.windowMs);
      const rate = then === undefined ? undefined : (Math.abs(this.latest - then) / s.rate.windowMs) * PER_MS[s.rate.per];
      this.grade1('rate', rate, s.rate.thresholds, fraction);
    }
    if (s.tangent) {
      const then = this.history?.valueAt(now - s.tangent.windowMs);
      let angle: number | undefined;
      if (then !== undefined) {
        const deltaT = (Math.abs(this.latest - this.baseline) - Math.abs(then - this.baseline)) / s.tangent.steadyVelocity;
        angle = (Math.atan2(deltaT, s.tangent.windowMs / DAY_MS) * 180) / Math.PI;
      }
      this.grade1('tangent', angle, s.tangent.thresholds, degrees);
    }

    const decider = this.decider();
    this.rank = decider ? this.states[decider].rank : 0;
    if (this.rank === previousRank) return null;
    if (this.rank > previousRank || this.rank === 0) this.acknowledged = false;
    const from = previousRank === 0 ? null : GRADES[previousRank - 1]!;
    if (decider && this.rank > 0) return this.change(from, decider, this.rank, false);
    // Back to no grade: name the criterion that held the last grade, and its clear level.
    return this.change(from, previousDecider ?? 'cumulative', previousRank, true);
  }

  private grade1(
    criterion: Criterion,
    value: number | undefined,
    thresholds: GradeThresholds,
    clearLevel: (threshold: number) => number,
  ): void {
    const state = this.states[criterion];
    // Rounded before comparing: 0.4999999999999 mm/h from float arithmetic is the 0.5 it was measured as.
    const shown = value === undefined ? undefined : round(value);
    state.value = shown;
    if (shown === undefined) {
      state.rank = 0;
      return;
    }
    let rank = 0;
    for (let r = 1; r <= 4; r++) {
      const threshold = thresholds[r - 1];
      if (threshold === undefined) continue;
      if (shown >= (r <= state.rank ? clearLevel(threshold) : threshold)) rank = r;
    }
    state.rank = rank;
  }

  /** The criterion holding the worst grade (the first of equals), or undefined when none grades. */
  private decider(): Criterion | undefined {
    let best: Criterion | undefined;
    for (const criterion of CRITERIA) {
      const rank = this.states[criterion].rank;
      if (rank > 0 && (best === undefined || rank > this.states[best].rank)) best = criterion;
    }
    return best;
  }

  private change(from: CrackGrade | null, criterion: Criterion, rank: number, clearing: boolean): GradeChange {
    const grade = GRADES[rank - 1]!;
    const threshold = this.thresholdOf(criterion, rank);
    const state = this.states[criterion];
    const id = this.channelId;
    const s = this.spec;
    let unit = 'mm';
    let text: string;
    const limit = clearing ? (criterion === 'tangent' ? degrees(threshold) : fraction(threshold)) : threshold;
    const op = clearing ? '<' : '≥';
    if (criterion === 'cumulative') {
      text = `${id} |displacement| ${op} ${formatNumber(limit)} mm`;
    } else if (criterion === 'rate') {
      unit = `mm/${s.rate!.per}`;
      text = `${id} rate ${op} ${formatNumber(limit)} ${unit} over ${formatDuration(s.rate!.windowMs)}`;
    } else {
      unit = '°';
      text =
        `${id} tangent angle ${op} ${formatNumber(limit)}° over ${formatDuration(s.tangent!.windowMs)} ` +
        `(v = ${formatNumber(s.tangent!.steadyVelocity)} mm/d)`;
    }
    return {
      from,
      to: clearing ? null : grade,
      criterion,
      value: state.value ?? 0,
      unit,
      threshold,
      rule: `${text} (${grade}${clearing ? ' clears' : ''})`,
    };
  }

  private thresholdOf(criterion: Criterion, rank: number): number {
    const s = this.spec;
    const thresholds = criterion === 'cumulative' ? s.cumulative?.thresholds : criterion === 'rate' ? s.rate?.thresholds : s.tangent?.thresholds;
    return thresholds?.[rank - 1] ?? Number.NaN;
  }
}

function fraction(threshold: number): number {
  return threshold * (1 - CLEAR_FRACTION);
}

function degrees(threshold: number): number {
  return threshold - CLEAR_DEGREES;
}

/** Ten significant digits: enough for any gauge, and no binary noise in statuses and events. */
function round(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const scale = 10 ** (9 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}
