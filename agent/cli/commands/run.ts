import { loadSettings, loadSite, formatErrors, SettingsError } from '../../../config/index.js';
import { AgentSupervisor } from '../../main/index.js';
import { createLogger } from '../../log/index.js';
import { startServiceLink } from '../../service/index.js';
import type { Command } from '../command.js';
import { EXIT_INVALID_INPUT, EXIT_OK, EXIT_RUNTIME_FAILURE } from '../exit-codes.js';
import { startLiveView } from '../live-view.js';
import { packageVersion } from '../paths.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the agent on a site file until stopped (SIGINT/SIGTERM).',
  usage: 'vigil run [--config FILE] [--settings FILE] [--watch]',
  details:
    'The site file comes from --config, else the VIGIL_SITE setting (default /etc/vigil/site.yaml).\n' +
    'An invalid site file is refused before anything starts (exit 2). Logs are JSON on stdout for journald,\n' +
    'readable when stdout is a terminal.\n' +
    'Under systemd (Type=notify, NOTIFY_SOCKET set) it reports ready after the first readings, feeds the\n' +
    'watchdog only while the safety loop is alive, and says when it is stopping (docs/service.md).',
  options: {
    config: { type: 'string', short: 'c', valueName: 'FILE', description: 'The site file.' },
    settings: { type: 'string', valueName: 'FILE', description: 'A settings file (JSON) with machine overrides.' },
    watch: { type: 'boolean', description: 'Show a live table of readings (on a terminal).' },
  },
  async run(args, { stdout, stderr, env, stopRequested }) {
    let settings;
    try {
      const file = args.values.settings;
      settings = loadSettings({ env, ...(typeof file === 'string' ? { file } : {}) });
    } catch (error) {
      if (error instanceof SettingsError) {
        stderr.write(`${error.message}\n`);
        return EXIT_INVALID_INPUT;
      }
      throw error;
    }
    const siteFile = typeof args.values.config === 'string' ? args.values.config : settings.siteFile;
    const loaded = loadSite(siteFile);
    if (!loaded.ok) {
      stderr.write(`vigil: refusing to start: ${siteFile} is invalid\n`);
      stderr.write(formatErrors(loaded.errors, { color: false }) + '\n');
      return EXIT_INVALID_INPUT;
    }
    const logger = createLogger({ level: settings.logLevel, pretty: Boolean(stdout.isTTY) && !args.values.watch });
    const profiles = new Map([...loaded.profiles].map(([id, entry]) => [id, entry.profile]));
    const supervisor = new AgentSupervisor({ siteFile, settings, logger, version: packageVersion() });
    try {
      await supervisor.start({ site: loaded.site, profiles });
    } catch (error) {
      logger.fatal({ err: error }, 'agent failed to start');
      return EXIT_RUNTIME_FAILURE;
    }
    const service = startServiceLink({
      env,
      logger,
      liveness: () => supervisor.running?.safety.liveness(),
      summary: () => {
        const site = supervisor.running?.site ?? loaded.site;
        return `site ${site.site.id}, ${site.devices.length} device(s) on ${site.buses.length} bus(es), ${site.outputs.length} output(s)`;
      },
    });
    const stopView = args.values.watch ? startLiveView(() => supervisor.running, { out: stdout }) : () => {};
    const signal = await stopRequested;
    logger.info({ signal }, 'stopping');
    stopView();
    // Outputs to their shutdown states and the outbox closed; the watchdog is kept fed meanwhile.
    await service?.stopping(`outputs to their shutdown states (${signal})`);
    await supervisor.stop();
    await service?.close();
    return EXIT_OK;
  },
};
