/**
 * Outputs: the relays (fans, sounders, other relays, the "system healthy" line) and the rules that drive them,
 * decided locally and synchronously from the alarm states. See docs/safety.md, "Outputs".
 */
export { OutputController, RESTORED_FORCE_OFF_CAP_MS } from './controller.js';
export { REASSERT_MS, FAILED_WRITE_ERROR_RETRY_MS } from './delivery.js';
export type { OutputControllerOptions, ForceResult, ClearResult } from './controller.js';
export { modbusCoilDriver } from './modbus-coil-driver.js';
export type { CoilWriter } from './modbus-coil-driver.js';
export { outputSelectorProblems } from './problems.js';
export type {
  ChannelSafetyStatus,
  DeliveryState,
  InputValue,
  InputView,
  OutputDriver,
  OutputKind,
  OutputSnapshot,
  OutputSnapshotEntry,
  OutputStatus,
  OverrideState,
  OverrideStatus,
  SafetyView,
  WriteResult,
} from './types.js';
