/**
 * Local safety control: alarm states per channel, crack grades, and the outputs they drive, decided in the
 * polling process without waiting on anything. See docs/safety.md.
 */
export { AlarmEngine, parseAlarmSnapshot, type ChannelSafetyStatus } from './alarms/index.js';
/** The resolved alarm settings per channel (setpoints, directions): what the OPC UA limit alarms show. */
export { channelSpecs, type AlarmSpec, type ChannelSpec, type LevelSpec } from './alarms/index.js';
export { OutputController, modbusCoilDriver, type OutputDriver, type OutputSnapshot, type OutputStatus } from './outputs/index.js';
export { SafetyLoop, type SafetyLiveness } from './loop.js';
export { SafetyEventLog } from './event-log.js';
export type { SafetyEvent, SafetyEventSink, SafetyEventType } from './events.js';
