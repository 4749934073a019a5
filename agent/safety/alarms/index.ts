/**
 * The per-channel alarm engine: gas and level alarms, faults, warm-up, over-range, crack-gauge grades and
 * accelerated polling. See docs/safety.md, "Alarm levels and crack grades", for the exact semantics.
 */
export { AlarmEngine, type AlarmEngineOptions } from './engine.js';
export type { ChannelSafetyStatus } from './status.js';
export {
  alarmSnapshotSchema,
  channelSnapshotSchema,
  parseAlarmSnapshot,
  type AlarmSnapshot,
  type ChannelSnapshot,
  type ParsedAlarmSnapshot,
} from './snapshot.js';
/** The one table of gas defaults and unit rules; the site-file checks and the reference docs use it too. */
export {
  BAND_DEADBAND_FRACTION,
  DEADBAND_FRACTION,
  GAS_DEFAULTS,
  GAS_DELAY_ON_MS,
  type DefaultLevel,
  type Direction,
  type GasDefaults,
} from './gas-defaults.js';
export { DEFAULT_LEL_BASIS, MOLAR_MASS, canonicalUnit, conversion, type Conversion, type UnitContext } from './units.js';
export { CLEAR_DEGREES, CLEAR_FRACTION } from './crack.js';
export { WARM_UP_LIMIT_MS } from './spec.js';
export { channelSpecs, type AlarmSpec, type ChannelSpec, type LevelSpec } from './spec.js';
