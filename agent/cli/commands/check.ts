import { loadSite, formatErrors } from '../../../config/index.js';
import type { Command } from '../command.js';
import { requireOne } from '../command.js';
import { EXIT_INVALID_INPUT, EXIT_OK } from '../exit-codes.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'Validate a site file and the driver profiles it uses; report every error at once.',
  usage: 'vigil check FILE [--json]',
  details:
    'Each error gives file:line:column, the path in the file (e.g. devices[3].channels[1].register), what was\n' +
    'expected, and a "did you mean" where a name looks misspelt. Exit code 0 when valid, 2 when not.',
  options: {
    json: { type: 'boolean', description: 'Print the result as JSON.' },
    'profile-dir': { type: 'string', valueName: 'DIR', description: 'An extra folder of driver profiles.' },
  },
  async run(args, { stdout }) {
    const file = requireOne(args, 'site FILE');
    const profileDir = args.values['profile-dir'];
    const result = loadSite(file, typeof profileDir === 'string' ? { profileDirs: [profileDir] } : {});
    if (args.values.json) {
      stdout.write(
        JSON.stringify(
          result.ok
            ? { ok: true, file, warnings: result.warnings }
            : { ok: false, file, errors: result.errors, warnings: result.warnings },
          null,
          2,
        ) + '\n',
      );
      return result.ok ? EXIT_OK : EXIT_INVALID_INPUT;
    }
    const color = Boolean(stdout.isTTY);
    if (result.warnings.length > 0) stdout.write(formatErrors(result.warnings, { color }) + '\n');
    if (!result.ok) {
      stdout.write(formatErrors(result.errors, { color }) + '\n');
      return EXIT_INVALID_INPUT;
    }
    const { site } = result;
    const channels = site.devices.reduce((n, d) => n + d.channels.length, 0);
    stdout.write(
      `${file}: valid — site "${site.site.id}", ${site.buses.length} bus(es), ${site.devices.length} device(s), ` +
        `${channels} channel(s)\n`,
    );
    return EXIT_OK;
  },
};
