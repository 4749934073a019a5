import type { CrackGrade } from '../../../config/schema/index.js';

/** What the alarm engine knows about one channel now: the face the outputs, the local API and the uplink read. */
export interface ChannelSafetyStatus {
  channelId: string;
  deviceId: string;
  /** Gas and level alarms; over-range is L2 with overRange true. */
  level: 'normal' | 'L1' | 'L2';
  /** The probe reports over-range now (the L2 it raised stays latched after this clears). */
  overRange: boolean;
  /** A raised level is held by its latch: it ends only when acknowledged and the value is back below L1. */
  latched: boolean;
  /** Every raised level (and the crack grade) has been acknowledged; false when nothing is raised. */
  acknowledged: boolean;
  /** A state, never a value: failed polls, a probe status, a sentinel, out of range, stuck, silent, unit, settings. */
  fault: boolean;
  faultReason?: string;
  warmUp: boolean;
  /** Crack channels: the warning grade, null when none. */
  grade: CrackGrade | null;
  /** The last reading's value in its own unit; null when that reading had none. */
  value: number | null;
  unit: string;
  /** The value actually held against the setpoints, in the setpoint unit (e.g. a %vol probe in %LEL). */
  compared?: { value: number; unit: string };
  /** Crack channels: baseline, displacement from it (mm), rate (mm per rate.per), tangent angle (degrees). */
  baseline?: number;
  displacement?: number;
  ratePerUnit?: number;
  tangentAngle?: number;
  /** Monotonic ms of the last state change (level, fault, warm-up, over-range, grade, acknowledgement). */
  since: number;
}
