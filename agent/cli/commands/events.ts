import type { SafetyEvent } from '../../safety/index.js';
import type { Command } from '../command.js';
import { API_OPTIONS, clientFromArgs, withApi } from '../api-args.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, UsageError } from '../exit-codes.js';
import { eventLine } from '../status-text.js';

export const eventsCommand: Command = {
  name: 'events',
  summary: 'Show the recent safety events of the running agent; --follow streams new ones as they happen.',
  usage: 'vigil events [--follow] [--limit N] [--json] [--socket PATH]',
  details:
    'Alarms raised and cleared, faults, outputs switched and why, operator actions (acknowledge, force, release).\n' +
    'With --follow the command keeps running and prints each new event until Ctrl-C. --json prints one JSON object\n' +
    'per line (newline-delimited JSON).',
  options: {
    follow: { type: 'boolean', short: 'f', description: 'Keep running and print new events as they happen (Ctrl-C to stop).' },
    limit: { type: 'string', valueName: 'N', description: 'How many recent events to show first (default 20; with --follow 5).' },
    ...API_OPTIONS,
  },
  async run(args, { stdout, stderr, env, stopRequested }) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    const follow = args.values.follow === true;
    const given = args.values.limit;
    if (typeof given === 'string' && !(/^\d+$/.test(given) && Number(given) <= 500)) throw new UsageError(`--limit "${given}": expected a whole number 0-500`);
    const limit = typeof given === 'string' ? Number(given) : follow ? 5 : 20;
    const print = (event: SafetyEvent): void => {
      stdout.write(args.values.json ? JSON.stringify(event) + '\n' : eventLine(event) + '\n');
    };
    return withApi(stderr, 'events', async () => {
      const client = clientFromArgs(args, env);
      if (!follow) {
        const { events } = await client.recentEvents(limit);
        for (const event of events) print(event);
        if (events.length === 0 && !args.values.json) stderr.write('no events yet\n');
        return EXIT_OK;
      }
      const stop = new AbortController();
      void stopRequested.then(() => stop.abort());
      const how = await client.followEvents(print, {
        recent: limit,
        signal: stop.signal,
        // On stderr, so that stdout stays one JSON object per line.
        onOpen: () => stderr.write(`following the events of the agent on ${client.socketPath} (Ctrl-C to stop)\n`),
      });
      if (how === 'stopped') return EXIT_OK;
      stderr.write('vigil events: the agent closed the stream (it stopped or restarted)\n');
      return EXIT_RUNTIME_FAILURE;
    });
  },
};
