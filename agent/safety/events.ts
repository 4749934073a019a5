import type { AlarmLevelName, CrackGrade } from '../../config/schema/index.js';

/**
 * Everything the safety side decides is an event: what happened, to which channel or output, with the value,
 * the setpoint and the rule, so the platform (and a technician) can audit every decision afterwards.
 */
export type SafetyEventType =
  | 'alarm-raised'
  | 'alarm-cleared'
  | 'alarm-acknowledged'
  | 'alarm-reset'
  | 'fault'
  | 'fault-cleared'
  | 'warm-up'
  | 'warm-up-done'
  | 'crack-grade'
  | 'baseline-set'
  | 'silenced'
  | 'output-on'
  | 'output-off'
  | 'output-failed'
  | 'output-recovered'
  | 'persistent-exceedance'
  | 'interlock'
  | 'override-set'
  | 'override-cleared'
  | 'override-expired';

export interface SafetyEvent {
  type: SafetyEventType;
  channelId?: string;
  outputId?: string;
  level?: AlarmLevelName;
  /** For crack-grade: the new grade (null = back to normal). */
  grade?: CrackGrade | null;
  value: number | null;
  unit?: string;
  setpoint?: number;
  /** The rule in words a technician reads, e.g. "tank1.ch4 ≥ 20 %LEL for 5 s (L1)". */
  rule: string;
  /** Why, where it is not the rule itself: "probe tank1.h2s in fault (timeout)", "forced by operator". */
  cause?: string;
  /** Who asked, for operator actions (acknowledge, force, silence, baseline). */
  by?: string;
  wallTs: number;
  monoTs: number;
  clockSynced: boolean;
}

export type SafetyEventSink = (event: SafetyEvent) => void;
