import type { Profile } from '../../config/schema/index.js';
import { SimulationFileError, loadSimulationFile, type LoadedSimulation } from '../../drivers/simulator/index.js';

/** Loads a simulation file; an invalid one is reported on stderr (every problem) and gives undefined. */
export function loadSimulationOrReport(file: string, profiles: Map<string, Profile>, stderr: NodeJS.WritableStream): LoadedSimulation | undefined {
  try {
    return loadSimulationFile(file, profiles);
  } catch (error) {
    if (!(error instanceof SimulationFileError)) throw error;
    stderr.write(`${error.message}\n`);
    return undefined;
  }
}
