import { createWriteStream } from 'node:fs';
import { parseTime } from '../../api/index.js';
import type { Command } from '../command.js';
import { API_OPTIONS, clientFromArgs, withApi } from '../api-args.js';
import { EXIT_OK, UsageError } from '../exit-codes.js';
import { bufferLine } from '../status-text.js';

function timeOption(args: { values: Record<string, string | boolean | undefined> }, name: 'from' | 'to'): string | undefined {
  const value = args.values[name];
  if (typeof value !== 'string') return undefined;
  if (parseTime(value) === undefined) throw new UsageError(`--${name} "${value}": expected an ISO 8601 time like 2024-05-01T10:00:00Z, or ms since the epoch`);
  return value;
}

/** Prints how much has been written, on a terminal, while an export takes long. */
function byteCounter(stderr: NodeJS.WritableStream & { isTTY?: boolean }): { add(bytes: number): void; done(): void } {
  let total = 0;
  let shown = false;
  const startedAt = Date.now();
  const timer = setInterval(() => {
    if (!stderr.isTTY) return;
    stderr.write(`\r\x1b[Kexporting… ${(total / 1024).toFixed(0)} KiB after ${Math.round((Date.now() - startedAt) / 1000)} s`);
    shown = true;
  }, 1000);
  return {
    add: (bytes) => (total += bytes),
    done() {
      clearInterval(timer);
      if (shown) stderr.write('\r\x1b[K');
    },
  };
}

export const bufferCommand: Command = {
  name: 'buffer',
  summary: 'Show the outbox of the running agent (records waiting for the platform, oldest age, drops); export them as CSV.',
  usage: 'vigil buffer [--json]  |  vigil buffer export [--from TIME] [--to TIME] [--output FILE]',
  details:
    'The outbox keeps every reading and event until the broker acknowledges it. "vigil buffer export" writes the\n' +
    'records still waiting whose time is in [--from, --to) as CSV (to stdout, or --output FILE); it removes nothing.\n' +
    'TIME is ISO 8601 (2024-05-01T10:00:00Z) or ms since the epoch.',
  options: {
    from: { type: 'string', valueName: 'TIME', description: 'export: from this time (inclusive); default the oldest.' },
    to: { type: 'string', valueName: 'TIME', description: 'export: up to this time (exclusive); default the newest.' },
    output: { type: 'string', short: 'o', valueName: 'FILE', description: 'export: write the CSV to this file instead of stdout.' },
    ...API_OPTIONS,
  },
  async run(args, { stdout, stderr, env }) {
    const [sub, ...extra] = args.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (sub !== undefined && sub !== 'export') throw new UsageError(`unknown subcommand "${sub}" (only "export")`);
    if (sub === undefined && (args.values.from !== undefined || args.values.to !== undefined || args.values.output !== undefined)) {
      throw new UsageError('--from, --to and --output go with "vigil buffer export"');
    }
    if (sub === 'export' && args.values.json) throw new UsageError('the export is CSV; --json goes with "vigil buffer"');
    const from = timeOption(args, 'from');
    const to = timeOption(args, 'to');
    return withApi(stderr, 'buffer', async () => {
      const client = clientFromArgs(args, env);
      if (sub === undefined) {
        const buffer = await client.buffer();
        stdout.write(args.values.json ? JSON.stringify(buffer, null, 2) + '\n' : bufferLine(buffer) + '\n');
        return EXIT_OK;
      }
      const file = typeof args.values.output === 'string' ? args.values.output : undefined;
      const out = file ? createWriteStream(file) : stdout;
      const progress = byteCounter(stderr);
      try {
        const bytes = await client.exportCsv({ ...(from ? { from } : {}), ...(to ? { to } : {}) }, out, progress.add);
        if (file) {
          await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())));
          stderr.write(`wrote ${file} (${bytes} bytes)\n`);
        }
      } finally {
        progress.done();
      }
      return EXIT_OK;
    });
  },
};
