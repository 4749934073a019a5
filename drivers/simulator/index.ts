/**
 * The device simulator: real Modbus RTU slaves (over TCP or a serial port) built from driver profiles, with
 * scripted values, injected faults and optional wire-timing emulation. Stands in for field devices in tests,
 * benchmarks and the demo.
 */
export type {
  RunningSimulator,
  SimDeviceSpec,
  SimFault,
  SimulatorEndpoint,
  SimulatorOptions,
  SimulatorStats,
  ValueScript,
  WireTiming,
} from './types.js';
export { startTcpSimulator } from './tcp.js';
export { startSerialSimulator } from './serial.js';
export {
  loadSimulationFile,
  parseSimulation,
  simulationFile,
  SimulationFileError,
  type LoadedSimulation,
  type SimulationFileInput,
  type SimulationTransport,
} from './file.js';
export { runSimulatorFromFile, startSimulation } from './start.js';
export { transactionWireTimeMs, frameTimeMs } from './timing.js';
export { valueScript } from './scripts.js';
