import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfiles, loadSettings, loadSite, formatErrors, shippedProfileDir } from '../../../config/index.js';
import type { Site } from '../../../config/schema/site.js';
import { startTcpSimulator } from '../../../drivers/simulator/index.js';
import { startAgent } from '../../main/index.js';
import { createLogger } from '../../log/index.js';
import type { Command } from '../command.js';
import { EXIT_INVALID_INPUT, EXIT_OK } from '../exit-codes.js';
import { startLiveView } from '../live-view.js';
import { packageRoot, packageVersion } from '../paths.js';
import { loadSimulationOrReport } from '../simulation.js';

/** Points every TCP bus of the site at the simulator, whatever port the site file names. */
function onSimulator(site: Site, host: string, port: number): Site {
  return {
    ...site,
    buses: site.buses.map((bus) => ('tcp' in bus ? { ...bus, tcp: { host, port } } : bus)),
  };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the agent on a simulated site (no hardware needed) and show what it reads.',
  usage: 'vigil demo [--site FILE --simulation FILE]',
  details:
    'Starts the device simulator (real Modbus RTU over TCP on a free loopback port) with the demo scenario,\n' +
    'runs the agent against it, and shows a live table until Ctrl-C.',
  options: {
    site: { type: 'string', valueName: 'FILE', description: 'Site file (default: config/examples/demo/site.yaml).' },
    simulation: {
      type: 'string',
      valueName: 'FILE',
      description: 'Simulation file (default: config/examples/demo/simulation.yaml).',
    },
    'log-level': { type: 'string', valueName: 'LEVEL', description: 'Log level (default warn: the table is the output).' },
  },
  async run(args, { stdout, stderr, stopRequested }) {
    const demoDir = join(packageRoot(), 'config', 'examples', 'demo');
    const siteFile = typeof args.values.site === 'string' ? args.values.site : join(demoDir, 'site.yaml');
    const simFile = typeof args.values.simulation === 'string' ? args.values.simulation : join(demoDir, 'simulation.yaml');

    const loaded = loadSite(siteFile);
    if (!loaded.ok) {
      stderr.write(formatErrors(loaded.errors, { color: false }) + '\n');
      return EXIT_INVALID_INPUT;
    }
    const { profiles: shipped } = loadProfiles([shippedProfileDir()]);
    const profiles = new Map([...shipped, ...loaded.profiles].map(([id, entry]) => [id, entry.profile]));
    const simulation = loadSimulationOrReport(simFile, profiles, stderr);
    if (!simulation) return EXIT_INVALID_INPUT;
    const simulator = await startTcpSimulator({ ...simulation, host: '127.0.0.1', port: 0 });
    if (simulator.endpoint.kind !== 'tcp') throw new Error('the demo simulator must listen on TCP');

    const level = typeof args.values['log-level'] === 'string' ? args.values['log-level'] : 'warn';
    const logger = createLogger({ level: level as 'warn', pretty: Boolean(stdout.isTTY) });
    const site = onSimulator(loaded.site, simulator.endpoint.host, simulator.endpoint.port);
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-demo-'));
    // Settings of its own (not this machine's): an outbox and the local API in the demo's folder, no broker.
    const settings = loadSettings({ env: {}, args: { dataDir } });
    const agent = await startAgent({ site, profiles, logger, dataDir, settings, version: packageVersion() });
    const stopView = startLiveView(() => agent, { out: stdout, title: `DEMO ${site.site.name} (simulated devices on ${simulator.endpoint.host}:${simulator.endpoint.port})` });

    await stopRequested;
    stopView();
    await agent.stop();
    await simulator.close();
    return EXIT_OK;
  },
};
