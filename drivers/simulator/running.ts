import type { SimulatedBus } from './bus.js';
import type { RunningSimulator, SimulatorEndpoint } from './types.js';

/** The public face of a started simulator, whatever carries its bytes. */
export function runningSimulator(bus: SimulatedBus, endpoint: SimulatorEndpoint, stopTransport: () => Promise<void>): RunningSimulator {
  let closing: Promise<void> | null = null;
  return {
    endpoint,
    setFault: (unit, fault) => bus.setFault(unit, fault),
    setValue: (unit, register, script) => bus.setValue(unit, register, script),
    readCoil: (unit, pduAddress) => bus.device(unit).readCoil(pduAddress),
    readHoldingRegister: (unit, pduAddress) => bus.device(unit).readHoldingRegister(pduAddress),
    stats: () => bus.stats(),
    close() {
      closing ??= (async () => {
        bus.close();
        await stopTransport();
      })();
      return closing;
    },
  };
}
