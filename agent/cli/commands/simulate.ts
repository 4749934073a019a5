import { loadProfiles, shippedProfileDir } from '../../../config/index.js';
import { startSerialSimulator, startTcpSimulator } from '../../../drivers/simulator/index.js';
import type { Command } from '../command.js';
import { requireOne } from '../command.js';
import { EXIT_INVALID_INPUT, EXIT_OK } from '../exit-codes.js';
import { loadSimulationOrReport } from '../simulation.js';

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'Serve simulated Modbus RTU devices (over TCP or a serial port) from a simulation file.',
  usage: 'vigil simulate FILE',
  details: 'Runs until Ctrl-C. Useful to rehearse a site, or to test a gateway without field devices.',
  options: {},
  async run(args, { stdout, stderr, stopRequested }) {
    const file = requireOne(args, 'simulation FILE');
    const { profiles: loaded } = loadProfiles([shippedProfileDir()]);
    const profiles = new Map([...loaded].map(([id, entry]) => [id, entry.profile]));
    const simulation = loadSimulationOrReport(file, profiles, stderr);
    if (!simulation) return EXIT_INVALID_INPUT;
    const simulator =
      'serial' in simulation.transport
        ? await startSerialSimulator({ ...simulation, ...simulation.transport.serial })
        : await startTcpSimulator({ ...simulation, ...simulation.transport.tcp });
    const where =
      simulator.endpoint.kind === 'tcp' ? `tcp ${simulator.endpoint.host}:${simulator.endpoint.port}` : simulator.endpoint.path;
    stdout.write(`simulating ${simulation.devices.length} device(s) on ${where}; Ctrl-C to stop\n`);
    await stopRequested;
    await simulator.close();
    return EXIT_OK;
  },
};
