import type { Command } from '../command.js';
import { API_OPTIONS, clientFromArgs, withApi } from '../api-args.js';
import { EXIT_OK, UsageError } from '../exit-codes.js';
import { renderStatus } from '../status-text.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show what the running agent sees: values, quality, alarms, outputs and why, buses, uplink, buffer, clock.',
  usage: 'vigil status [--json] [--socket PATH]',
  details:
    'Asks the running agent through its local API (a Unix socket; see docs/local-api.md). --json prints the status\n' +
    'snapshot as the API serves it (versioned; the shape is documented), for scripts.',
  options: { ...API_OPTIONS },
  async run(args, { stdout, stderr, env }) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    return withApi(stderr, 'status', async () => {
      const status = await clientFromArgs(args, env).status();
      stdout.write(args.values.json ? JSON.stringify(status, null, 2) + '\n' : renderStatus(status, { color: Boolean(stdout.isTTY) }) + '\n');
      return EXIT_OK;
    });
  },
};
