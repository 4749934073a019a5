import { runDoctor, formatReport } from '../../service/index.js';
import type { Command } from '../command.js';
import { UsageError, EXIT_OK, EXIT_RUNTIME_FAILURE } from '../exit-codes.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check this gateway in place: Node, serial ports, GPIO, clock, disk, data folder, broker, config, service.',
  usage: 'vigil doctor [--config FILE] [--service-env FILE] [--settings FILE] [--timeout SECONDS] [--json]',
  details:
    'Every check says ok, warning or failed, what it found, and one line on how to fix it. It reads the same\n' +
    'settings as the service (/etc/vigil/vigil.env, then exported VIGIL_* variables) and the site file\n' +
    'from --config, else VIGIL_SITE (default /etc/vigil/site.yaml). The broker check makes a real MQTT\n' +
    'connection with a client id of its own, so the running agent stays connected. Run it with sudo to\n' +
    'read credential files that only the vigil user may read.\n' +
    'Exit code 0 when nothing failed (warnings allowed), 1 when a check failed.',
  options: {
    config: { type: 'string', short: 'c', valueName: 'FILE', description: 'The site file to check.' },
    settings: { type: 'string', valueName: 'FILE', description: 'A settings file, as for vigil run.' },
    'service-env': { type: 'string', valueName: 'FILE', description: "The service's VIGIL_* file (default /etc/vigil/vigil.env when present)." },
    timeout: { type: 'string', valueName: 'SECONDS', description: 'How long to wait for the broker (default 5).' },
    json: { type: 'boolean', description: 'Print the report as JSON: { ok, counts, checks: [{ id, title, status, detail, hint }] }.' },
  },
  async run(args, { stdout, env }) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    let brokerTimeoutMs = 5000;
    if (typeof args.values.timeout === 'string') {
      const seconds = Number(args.values.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 120) throw new UsageError(`--timeout must be seconds between 0 and 120, got "${args.values.timeout}"`);
      brokerTimeoutMs = Math.round(seconds * 1000);
    }
    const report = await runDoctor({
      env,
      brokerTimeoutMs,
      ...(typeof args.values.config === 'string' ? { siteFile: args.values.config } : {}),
      ...(typeof args.values.settings === 'string' ? { settingsFile: args.values.settings } : {}),
      ...(typeof args.values['service-env'] === 'string' ? { envFile: args.values['service-env'] } : {}),
    });
    stdout.write(args.values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report, { color: Boolean(stdout.isTTY) }));
    return report.ok ? EXIT_OK : EXIT_RUNTIME_FAILURE;
  },
};
