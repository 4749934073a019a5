import type { AlarmLevelName, CrackGrade, Output, RuleCondition } from '../../../config/schema/index.js';
import { resolveSelectors, type ResolvedSelector } from './selectors.js';
import type { ChannelSafetyStatus, InputValue } from './types.js';

/**
 * The rules of one output, compiled once, and their evaluation against the current channel states. Pure: the
 * same states give the same verdict, so a technician's reading of the rule and the agent's never differ.
 */

export type CompiledCondition =
  | { kind: 'alarm'; level: AlarmLevelName; selectors: ResolvedSelector[]; text: string }
  | { kind: 'fault'; selectors: ResolvedSelector[]; text: string }
  | { kind: 'crack'; grade: CrackGrade; selectors: ResolvedSelector[]; text: string }
  | { kind: 'input'; channelId: string; is: 'on' | 'off'; text: string };

export interface CompiledRule {
  conditions: CompiledCondition[];
  /** Fans only: a probe behind an alarm condition that is in fault or silent switches the fan on. */
  failSafe: boolean;
  text: string;
}

export interface CompiledInterlock {
  level: AlarmLevelName;
  selectors: ResolvedSelector[];
  text: string;
  /** "tank1.ch4", "any of tank1.ch4, tank2.ch4": the interlock's channels as the site file names them. */
  channelsText: string;
}

/** One reason the rule wants the output on. */
export interface Reason {
  condition: CompiledCondition['kind'] | 'fail-safe';
  /**
   * Alarm, fault, crack and fail-safe reasons are safety reasons: they start a fan or sounder even inside its
   * minimum off time. Input contacts are not (a bouncing contact must not wear the motor).
   */
  safety: boolean;
  /** For people: "tank1.ch4 at L1 (23 %LEL)". */
  text: string;
  /** The condition in words, as the site file says it. */
  rule: string;
  channelId?: string;
  level?: AlarmLevelName;
  grade?: CrackGrade;
  value: number | null;
  unit?: string;
  /**
   * What is raised, one key per step (a channel at L2 under an L1 condition gives ".../L1" and ".../L2"): a key
   * that was not there when a sounder was silenced is a new alarm.
   */
  keys: string[];
}

/** What a rule needs to see. */
export interface RuleContext {
  status(channelId: string): ChannelSafetyStatus | undefined;
  input(channelId: string): InputValue | undefined;
  /** Whether the channel has had a value, a warm-up or a fault since start: never-heard probes are silent. */
  hasHadData(channelId: string): boolean;
}

const GRADE_ORDER: readonly CrackGrade[] = ['blue', 'yellow', 'orange', 'red'];

export function compileRule(output: Output, siteChannelIds: readonly string[]): CompiledRule {
  const conditions = (output.when?.any ?? []).map((condition) => compileCondition(condition, siteChannelIds));
  return {
    conditions,
    failSafe: output.kind === 'fan',
    text: conditions.length === 0 ? 'no rule' : `on when ${conditions.map((c) => c.text).join(' or ')}`,
  };
}

export function compileInterlock(output: Output, siteChannelIds: readonly string[]): CompiledInterlock | undefined {
  if (!output.interlock) return undefined;
  const { alarm, channels } = output.interlock;
  return {
    level: alarm,
    selectors: resolveSelectors(channels, siteChannelIds),
    text: `not started while ${listOf(channels)} at ${alarm} or above`,
    channelsText: channels.join(', '),
  };
}

function compileCondition(condition: RuleCondition, siteChannelIds: readonly string[]): CompiledCondition {
  if ('input' in condition) {
    return { kind: 'input', channelId: condition.input, is: condition.is, text: `${condition.input} is ${condition.is}` };
  }
  const selectors = resolveSelectors(condition.channels, siteChannelIds);
  const channels = listOf(condition.channels);
  if ('alarm' in condition) {
    return { kind: 'alarm', level: condition.alarm, selectors, text: `${channels} at ${condition.alarm} or above` };
  }
  if ('crack' in condition) {
    return { kind: 'crack', grade: condition.crack, selectors, text: `${channels} at ${condition.crack} or above` };
  }
  return { kind: 'fault', selectors, text: `${channels} in fault` };
}

function listOf(selectors: readonly string[]): string {
  return selectors.length === 1 ? selectors[0]! : `any of ${selectors.join(', ')}`;
}

/** Every reason the rule has to want the output on now; none = all clear. */
export function evaluateRule(rule: CompiledRule, context: RuleContext): Reason[] {
  const reasons: Reason[] = [];
  for (const condition of rule.conditions) {
    switch (condition.kind) {
      case 'alarm':
        reasons.push(...alarmReasons(condition, context));
        if (rule.failSafe) reasons.push(...failSafeReasons(condition, context));
        break;
      case 'fault':
        reasons.push(...faultReasons(condition, context));
        break;
      case 'crack':
        reasons.push(...crackReasons(condition, context));
        break;
      case 'input': {
        const reason = inputReason(condition, context);
        if (reason) reasons.push(reason);
        break;
      }
    }
  }
  return reasons;
}

/**
 * The channels that hold the interlock now: those at or above its level (a latched L2 holds it even if the
 * probe has since faulted), then those whose level cannot be known (in fault, warming up, no reading yet, not
 * monitored, a pattern matching nothing): below the level must be known, not assumed.
 */
export function evaluateInterlock(interlock: CompiledInterlock, context: RuleContext): Reason[] {
  const raised = alarmReasons({ kind: 'alarm', level: interlock.level, selectors: interlock.selectors, text: interlock.text }, context);
  const raisedIds = new Set(raised.map((reason) => reason.channelId));
  const unknown: Reason[] = [];
  for (const selector of interlock.selectors) {
    if (selector.channelIds.length === 0) {
      unknown.push({ condition: 'fault', safety: true, text: `${selector.selector} matches no channel`, rule: interlock.text, value: null, keys: [] });
    }
    for (const channelId of selector.channelIds) {
      if (raisedIds.has(channelId)) continue;
      const status = context.status(channelId);
      const why = !status
        ? 'is not monitored'
        : status.fault
          ? `in fault${status.faultReason ? ` (${status.faultReason})` : ''}`
          : status.warmUp
            ? 'warming up'
            : context.hasHadData(channelId)
              ? undefined
              : 'has no reading yet';
      if (!why || unknown.some((reason) => reason.channelId === channelId)) continue;
      unknown.push({
        condition: 'fault',
        safety: true,
        text: `${channelId} ${why}`,
        rule: interlock.text,
        channelId,
        value: null,
        unit: status?.unit,
        keys: [],
      });
    }
  }
  return [...raised, ...unknown];
}

/** 0 normal, 1 L1, 2 L2; over-range is the top of the scale and counts as L2. */
export function levelRank(status: ChannelSafetyStatus): number {
  if (status.overRange || status.level === 'L2') return 2;
  return status.level === 'L1' ? 1 : 0;
}

function levelName(rank: number): AlarmLevelName {
  return rank >= 2 ? 'L2' : 'L1';
}

function alarmReasons(condition: Extract<CompiledCondition, { kind: 'alarm' }>, context: RuleContext): Reason[] {
  const needed = condition.level === 'L2' ? 2 : 1;
  const reasons: Reason[] = [];
  for (const channelId of channelsOf(condition.selectors)) {
    const status = context.status(channelId);
    if (!status) continue;
    const rank = levelRank(status);
    if (rank < needed) continue;
    const keys: string[] = [];
    for (let step = needed; step <= rank; step++) keys.push(`alarm:${channelId}:${levelName(step)}`);
    reasons.push({
      condition: 'alarm',
      safety: true,
      text: `${channelId} at ${levelName(rank)}${status.overRange ? ' (over-range)' : ''}${valueText(status)}`,
      rule: condition.text,
      channelId,
      level: levelName(rank),
      value: status.value,
      unit: status.unit,
      keys,
    });
  }
  return reasons;
}

function failSafeReasons(condition: Extract<CompiledCondition, { kind: 'alarm' }>, context: RuleContext): Reason[] {
  const reasons: Reason[] = [];
  for (const selector of condition.selectors) {
    if (selector.channelIds.length === 0) {
      reasons.push({
        condition: 'fail-safe',
        safety: true,
        text: `${selector.selector} matches no channel`,
        rule: condition.text,
        value: null,
        keys: [`fail-safe:${selector.selector}`],
      });
    }
    for (const channelId of selector.channelIds) {
      const status = context.status(channelId);
      const silence = !status
        ? 'is not monitored'
        : status.fault
          ? `in fault${status.faultReason ? ` (${status.faultReason})` : ''}`
          : context.hasHadData(channelId)
            ? undefined
            : 'has no reading yet';
      if (!silence) continue;
      reasons.push({
        condition: 'fail-safe',
        safety: true,
        text: `${channelId} ${silence}`,
        rule: condition.text,
        channelId,
        value: null,
        unit: status?.unit,
        keys: [`fail-safe:${channelId}`],
      });
    }
  }
  return reasons;
}

function faultReasons(condition: Extract<CompiledCondition, { kind: 'fault' }>, context: RuleContext): Reason[] {
  const reasons: Reason[] = [];
  for (const channelId of channelsOf(condition.selectors)) {
    const status = context.status(channelId);
    if (status && !status.fault) continue;
    const why = !status ? 'is not monitored' : `in fault${status.faultReason ? ` (${status.faultReason})` : ''}`;
    reasons.push({
      condition: 'fault',
      safety: true,
      text: `${channelId} ${why}`,
      rule: condition.text,
      channelId,
      value: null,
      unit: status?.unit,
      keys: [`fault:${channelId}`],
    });
  }
  return reasons;
}

function crackReasons(condition: Extract<CompiledCondition, { kind: 'crack' }>, context: RuleContext): Reason[] {
  const needed = GRADE_ORDER.indexOf(condition.grade);
  const reasons: Reason[] = [];
  for (const channelId of channelsOf(condition.selectors)) {
    const status = context.status(channelId);
    if (!status || status.grade === null) continue;
    const rank = GRADE_ORDER.indexOf(status.grade);
    if (rank < needed) continue;
    reasons.push({
      condition: 'crack',
      safety: true,
      text: `${channelId} at ${status.grade}${valueText(status)}`,
      rule: condition.text,
      channelId,
      grade: status.grade,
      value: status.value,
      unit: status.unit,
      keys: GRADE_ORDER.slice(needed, rank + 1).map((grade) => `crack:${channelId}:${grade}`),
    });
  }
  return reasons;
}

function inputReason(condition: Extract<CompiledCondition, { kind: 'input' }>, context: RuleContext): Reason | undefined {
  const state = contactState(context.input(condition.channelId));
  if (state !== condition.is) return undefined;
  return {
    condition: 'input',
    safety: false,
    text: `${condition.channelId} is ${state}`,
    rule: condition.text,
    channelId: condition.channelId,
    value: state === 'on' ? 1 : 0,
    keys: [`input:${condition.channelId}:${state}`],
  };
}

/** A contact is on at 1 and off at 0, and only with good quality: an unknown contact is neither. */
export function contactState(input: InputValue | undefined): 'on' | 'off' | undefined {
  if (!input || input.quality !== 'good' || input.value === null) return undefined;
  if (input.value === 1) return 'on';
  if (input.value === 0) return 'off';
  return undefined;
}

/** Selectors are resolved once, when the rules compile; the safety loop asks for their channels every tick. */
const channelsCache = new WeakMap<readonly ResolvedSelector[], string[]>();

function channelsOf(selectors: readonly ResolvedSelector[]): string[] {
  let channels = channelsCache.get(selectors);
  if (!channels) {
    channels = [...new Set(selectors.flatMap((selector) => selector.channelIds))];
    channelsCache.set(selectors, channels);
  }
  return channels;
}

/** Every channel id a compiled rule (and interlock) looks at through the alarm engine. */
export function referencedChannels(rule: CompiledRule, interlock?: CompiledInterlock): string[] {
  const selectors = rule.conditions.flatMap((condition) => (condition.kind === 'input' ? [] : condition.selectors));
  return channelsOf(interlock ? [...selectors, ...interlock.selectors] : selectors);
}

function valueText(status: ChannelSafetyStatus): string {
  return status.value === null ? '' : ` (${status.value} ${status.unit})`.replace(/ \)$/, ')');
}
