/**
 * The per-channel alarm engine: gas and level alarms, faults, warm-up, over-range, crack-gauge grades and
 * accelerated polling. See docs/safety.md, "Alarm levels and crack grades", for the exact semantics.
 */
export { AlarmEngine, type AlarmEngineOptions } from './engine.js';
export type { ChannelSafetyStatus } from './status.js';
export { alarmSnapshotSchema, parseAlarmSnapshot, type AlarmSnapshot, type ChannelSnapshot } from './snapshot.js';
export { GAS_DEFAULTS } from './gas-defaults.js';
export { CLEAR_DEGREES, CLEAR_FRACTION } from './crack.js';
export { DEFAULT_LEL_BASIS, MOLAR_MASS, conversion, canonicalUnit } from './units.js';
