import { isComputed } from '../schema/profile.js';
import type { AlarmLevelName, CrackGrade } from '../schema/safety.js';
import { crackGrade } from '../schema/safety.js';
import type { PathSegment } from './config-error.js';
import { reachableGrades } from './crack-checks.js';
import type { Fields } from './lenient.js';
import { has, isFields, listField, textField } from './lenient.js';
import { isPattern, matchSelector, selectorHint } from './selectors.js';
import type { Reporter, SiteIndex } from './site-index.js';
import { didYouMean, listNames } from './suggest.js';

/**
 * The checks on the rules of outputs (conditions, interlocks, feedback): every channel they name exists, and an
 * alarm or crack rule names a channel that can reach its level. A rule that can never fire is an error, not a
 * warning: on a septic tank it is a fan that never starts.
 */

export interface Wants {
  alarm?: AlarmLevelName;
  crack?: CrackGrade;
}

export class RuleChecker {
  /** Everything a rule can name: the channels of the devices and the GPIO inputs. */
  private readonly ids: string[];

  constructor(
    private readonly index: SiteIndex,
    private readonly report: Reporter,
  ) {
    this.ids = [...index.channels.keys(), ...index.gpioInputs.keys()];
  }

  condition(condition: Fields, path: PathSegment[]): void {
    if (has(condition, 'input')) {
      this.contact(textField(condition, 'input'), [...path, 'input'], 'input');
      return;
    }
    const level = textField(condition, 'alarm');
    const grade = textField(condition, 'crack');
    const wants: Wants = {};
    if (level === 'L1' || level === 'L2') wants.alarm = level;
    if (crackGrade.safeParse(grade).success) wants.crack = grade as CrackGrade;
    this.selectors(condition, path, wants);
  }

  /** Every selector matches something, and (for alarm and crack rules) something that can reach the level. */
  selectors(owner: unknown, path: PathSegment[], wants: Wants): void {
    listField(owner, 'channels').forEach((selector, s) => {
      if (typeof selector !== 'string') return;
      const where = [...path, 'channels', s];
      const matched = matchSelector(selector, this.ids);
      if (matched.length === 0) {
        const message = `no channel ${isPattern(selector) ? 'matches' : 'is called'} "${selector}"`;
        this.report.error(where, message, selectorHint(selector, this.ids));
        return;
      }
      // "tank1.temp has no alarm levels" / "none of the 4 channels matching "tank1.*" has an L2 level"
      const lacks = (none: string, some: string): string =>
        isPattern(selector)
          ? `none of the ${matched.length} channel${matched.length === 1 ? '' : 's'} matching "${selector}" has ${some}`
          : `"${selector}" has no ${none}`;
      if (wants.alarm !== undefined) {
        const level = wants.alarm;
        const levels = matched.map((id) => this.alarmLevelsOf(id));
        if (!levels.some((l) => l.size > 0)) {
          const message = `${lacks('alarm levels', 'alarm levels')}, so this can never fire`;
          this.report.error(where, message, this.alarmHint(matched));
        } else if (!levels.some((l) => l.has(level))) {
          // The alarm engine gives such a channel an L2 that only over-range raises: legal, rarely meant.
          this.report.warning(
            where,
            `${lacks(`${level} level`, `an ${level} level`)}: only an over-range reading can fire this`,
            `add ${level} to the channel's alarm`,
          );
        }
      }
      if (wants.crack !== undefined) {
        const reachable = matched.map((id) => reachableGrades(this.index.channels.get(id)?.raw.crack));
        const atOrAbove = crackGrade.options.slice(crackGrade.options.indexOf(wants.crack));
        const grades = `${atOrAbove.join(' or ')} threshold`;
        if (!reachable.some((g) => g.size > 0)) {
          const message = `${lacks('crack grading', 'crack grading')}, so this can never fire`;
          this.report.error(where, message, 'add "crack" to the channel');
        } else if (!reachable.some((g) => atOrAbove.some((grade) => g.has(grade)))) {
          this.report.error(
            where,
            `${lacks(grades, `${/^[aeiou]/.test(grades) ? 'an' : 'a'} ${grades}`)}, so this can never fire`,
            'add one, or a tangent criterion (it grades up to red)',
          );
        }
      }
    });
  }

  /**
   * The levels a channel raises from its readings: both for a gas (defaults), else those written. A rule fires
   * at its level or above, so a channel with only L2 still fires an L1 rule.
   */
  private alarmLevelsOf(id: string): Set<AlarmLevelName> {
    const alarm = this.index.channels.get(id)?.raw.alarm;
    if (!isFields(alarm)) return new Set();
    if (has(alarm, 'gas') || has(alarm, 'L2')) return new Set(['L1', 'L2']);
    // An alarm with no level at all is reported at the channel; counting it as L1 avoids a second error here.
    return new Set(['L1']);
  }

  private alarmHint(matched: string[]): string {
    const withAlarm = this.ids.filter((id) => isFields(this.index.channels.get(id)?.raw.alarm));
    const closest = matched.length === 1 ? didYouMean(matched[0]!, withAlarm) : undefined;
    if (closest) return closest;
    return withAlarm.length > 0 ? `channels with alarms: ${listNames(withAlarm)}` : 'add "alarm" to the channel';
  }

  /** A contact: a GPIO input of kind contact, or a channel of a single bit (a coil, an input, a status bit). */
  contact(id: string | undefined, path: PathSegment[], role: 'input' | 'feedback'): void {
    if (id === undefined) return;
    const contacts = [
      ...[...this.index.gpioInputs.values()].filter((i) => i.kind === 'contact').map((i) => i.id),
      ...[...this.index.channels.values()]
        .filter((c) => c.register && !isComputed(c.register) && c.register.type === 'bit')
        .map((c) => c.id),
    ];
    const gpioInput = this.index.gpioInputs.get(id);
    const channel = this.index.channels.get(id);
    const use =
      role === 'feedback' ? 'feedback must come from a contact or a coil read-back' : 'an input condition needs a contact';
    const choices = `${use}: ${listNames(contacts) || 'none defined'}`;
    if (gpioInput) {
      if (gpioInput.kind === 'counter') this.report.error(path, `"${id}" is a pulse counter, not a contact`, choices);
      return;
    }
    if (channel) {
      const register = channel.register;
      if (register && (isComputed(register) || register.type !== 'bit')) {
        const is = isComputed(register) ? 'a computed value' : `a ${register.type} value`;
        this.report.error(path, `"${id}" is not a contact: register "${register.name}" is ${is}`, choices);
      }
      return;
    }
    const hint = didYouMean(id, contacts) ?? didYouMean(id, this.ids) ?? `contacts: ${listNames(contacts) || 'none defined'}`;
    this.report.error(path, `no contact "${id}"`, hint);
  }
}
