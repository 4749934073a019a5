import type { Profile } from '../../config/schema/index.js';
import { loadSimulationFile, type LoadedSimulation } from './file.js';
import { startSerialSimulator } from './serial.js';
import { startTcpSimulator } from './tcp.js';
import type { RunningSimulator } from './types.js';

/** Starts a loaded simulation on the transport its file names. */
export function startSimulation(simulation: LoadedSimulation): Promise<RunningSimulator> {
  const { transport, ...options } = simulation;
  return 'serial' in transport
    ? startSerialSimulator({ ...options, ...transport.serial })
    : startTcpSimulator({ ...options, ...transport.tcp });
}

/** Loads a simulation file (throws SimulationFileError) and starts it. */
export function runSimulatorFromFile(file: string, profiles: Map<string, Profile>): Promise<RunningSimulator> {
  return startSimulation(loadSimulationFile(file, profiles));
}
