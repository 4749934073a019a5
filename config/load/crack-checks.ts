import { conversion } from '../../agent/safety/alarms/units.js';
import { parseDuration } from '../schema/common.js';
import type { CrackGrade } from '../schema/safety.js';
import { crackGrade, crackWarning } from '../schema/safety.js';
import type { PathSegment } from './config-error.js';
import type { Fields } from './lenient.js';
import { fieldsOf, has, isFields, numberField, textField } from './lenient.js';
import type { ChannelEntry, Reporter } from './site-index.js';

/**
 * The checks on a channel's `crack` grading: at least one criterion that can grade, thresholds that rise with
 * the grade (a yellow threshold above the orange one would skip a grade), windows that hold readings, and a
 * value in millimetres.
 */

const GRADES: readonly CrackGrade[] = crackGrade.options;
const CRITERIA = ['cumulative', 'rate', 'tangent'] as const;
const TANGENT_DEFAULTS = tangentDefaults();

export function checkCrack(channel: ChannelEntry, report: Reporter): void {
  const at = (...rest: PathSegment[]): PathSegment[] => [...channel.path, 'crack', ...rest];
  const crack = fieldsOf(channel.raw.crack);

  if (!CRITERIA.some((key) => has(crack, key))) {
    report.error(
      at(),
      'crack grading needs at least one criterion: cumulative, rate or tangent',
      'e.g. "cumulative: { yellow: 5, orange: 10, red: 20 }" (mm from the baseline)',
      'key',
    );
  }

  for (const key of ['cumulative', 'rate'] as const) {
    if (!isFields(crack[key])) continue;
    const thresholds = crack[key];
    if (!GRADES.some((grade) => has(thresholds, grade))) {
      const unit = key === 'rate' ? `mm per ${textField(thresholds, 'per') ?? 'h'}` : 'mm';
      const message = `${key} grades nothing: give at least one of ${GRADES.join(', ')} (in ${unit})`;
      report.error(at(key), message, undefined, 'key');
      continue;
    }
    checkAscending(thresholds, {}, at(key), report);
  }
  if (isFields(crack.tangent)) checkAscending(crack.tangent, TANGENT_DEFAULTS, at('tangent'), report);

  for (const key of ['rate', 'tangent'] as const) {
    const window = textField(fieldsOf(crack[key]), 'window');
    const ms = window === undefined ? undefined : parseDuration(window);
    if (ms === 0) report.error(at(key, 'window'), 'a window of 0 holds no readings', 'e.g. "1h"');
  }
  const rateWindow = parseDuration(textField(fieldsOf(crack.rate), 'window') ?? '1h');
  if (isFields(crack.rate) && rateWindow && channel.intervalMs !== undefined && rateWindow < channel.intervalMs) {
    report.warning(
      has(crack.rate, 'window') ? at('rate', 'window') : at('rate'),
      'the rate window is shorter than the poll interval: it holds at most one reading outside a warning',
      'make the window at least twice the interval',
    );
  }

  const unit = textField(channel.raw, 'unit') ?? channel.register?.unit;
  // Lengths convert (µm, mm, cm, m); anything else is not a displacement.
  if (unit !== undefined && 'error' in conversion(unit, 'mm', {}, 'crack thresholds')) {
    report.error(
      at(),
      `crack grades are in mm, but this channel reports "${unit}"`,
      'put "crack" on the displacement channel',
      'key',
    );
  }
}

/** Each given grade strictly above the one before it; written values are blamed before defaults. */
function checkAscending(
  thresholds: Fields,
  defaults: Partial<Record<CrackGrade, number>>,
  path: PathSegment[],
  report: Reporter,
): void {
  let previous: { grade: CrackGrade; value: number; written: boolean } | undefined;
  for (const grade of GRADES) {
    const written = numberField(thresholds, grade);
    const value = written ?? defaults[grade];
    if (value === undefined) continue;
    const current = { grade, value, written: written !== undefined };
    if (previous && current.value <= previous.value) {
      const blameCurrent = current.written || !previous.written;
      const [blamed, other] = blameCurrent ? [current, previous] : [previous, current];
      const note = (entry: typeof current): string => `${entry.value}${entry.written ? '' : ', the default'}`;
      const relation = blameCurrent ? 'above' : 'below';
      report.error(
        [...path, blamed.grade],
        `${blamed.grade} (${note(blamed)}) must be ${relation} ${other.grade} (${note(other)})`,
        `grades rise in the order ${GRADES.join(' < ')}`,
      );
    }
    previous = current;
  }
}

/** The grades a channel's crack grading can reach at all; the tangent criterion reaches all of them. */
export function reachableGrades(crack: unknown): Set<CrackGrade> {
  const raw = fieldsOf(crack);
  const grades = new Set<CrackGrade>();
  if (isFields(raw.tangent)) GRADES.forEach((grade) => grades.add(grade));
  for (const key of ['cumulative', 'rate'] as const) {
    for (const grade of GRADES) if (has(raw[key], grade)) grades.add(grade);
  }
  return grades;
}

/** The tangent-angle defaults, read from the schema so the two cannot drift apart. */
function tangentDefaults(): Partial<Record<CrackGrade, number>> {
  const shape = crackWarning.shape.tangent.unwrap().shape;
  const defaults: Partial<Record<CrackGrade, number>> = {};
  for (const grade of GRADES) defaults[grade] = shape[grade].parse(undefined);
  return defaults;
}
