import { parseDuration } from '../../../config/index.js';
import { AgentUnreachableError, type ApiClient, type OutputStatusView } from '../../api/index.js';
import type { Command } from '../command.js';
import { API_OPTIONS, clientFromArgs, withApi } from '../api-args.js';
import { EXIT_INVALID_INPUT, EXIT_OK, EXIT_RUNTIME_FAILURE, UsageError } from '../exit-codes.js';

/** How often the output is looked at during the test. */
const WATCH_MS = 250;

/** A countdown redrawn in place on a terminal (stderr, so stdout stays clean); nothing otherwise. */
function countdown(stream: NodeJS.WritableStream & { isTTY?: boolean }): { show(text: string): void; clear(): void } {
  let shown = false;
  return {
    show(text) {
      if (!stream.isTTY) return;
      stream.write(`\r\x1b[K${text}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

function bar(done: number, total: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, done / total)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function readback(output: OutputStatusView): string {
  const confirmed = output.feedback !== 'none' ? `feedback ${output.feedback}` : `write ${output.delivery === 'ok' ? 'confirmed' : output.delivery}`;
  const seen = output.readback;
  if (!seen) return confirmed;
  const relay = seen.value === null ? `no reading (${seen.quality ?? 'none yet'})` : seen.value ? 'energised' : 'released';
  return `${confirmed}, relay reads ${relay} (${seen.channel})`;
}

function describe(output: OutputStatusView): string {
  const state = output.state === 'unknown' ? '—' : output.state.toUpperCase();
  return `${output.id} ${state}, ${readback(output)}`;
}

async function outputOf(client: ApiClient, id: string): Promise<OutputStatusView> {
  const output = (await client.status()).outputs.find((o) => o.id === id);
  if (!output) throw new Error(`output ${id} is no longer on this gateway (its site config changed)`);
  return output;
}

type Ending = 'expired' | 'released' | 'taken-over';

interface Sample {
  atMs: number;
  state: OutputStatusView['state'];
  feedback: OutputStatusView['feedback'];
  delivery: OutputStatusView['delivery'];
  remainingMs: number | null;
}

export const relayCommand: Command = {
  name: 'relay',
  summary: 'Test an output: switch it for a short time; the agent switches it back by itself.',
  usage: 'vigil relay test OUTPUT [--for 5s] [--state on|off] [--json] [--socket PATH]',
  details:
    'Forces the output through the agent\'s command path with an expiry: the agent itself switches it back when\n' +
    'the time is up, even if this command is killed. Shows a countdown and what the relay reports back; Ctrl-C\n' +
    'releases it at once. Outputs are the ids under "outputs:" in the site file (vigil status lists them).',
  options: {
    for: { type: 'string', valueName: 'DURATION', description: 'How long, e.g. 5s (default 5s); at most the output\'s maxOverride.' },
    state: { type: 'string', valueName: 'on|off', description: 'The state to test (default on).' },
    ...API_OPTIONS,
  },
  async run(args, { stdout, stderr, env, stopRequested }) {
    const [sub, outputId, ...extra] = args.positionals;
    if (sub !== 'test') throw new UsageError(sub === undefined ? 'expected "test OUTPUT"' : `unknown subcommand "${sub}" (only "test")`);
    if (outputId === undefined) throw new UsageError('expected the output to test, e.g. vigil relay test fan');
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const forText = typeof args.values.for === 'string' ? args.values.for : '5s';
    const forMs = parseDuration(forText);
    if (forMs === undefined || forMs <= 0) throw new UsageError(`--for "${forText}": expected a duration above 0 with its unit, like 5s or 500ms`);
    const state = typeof args.values.state === 'string' ? args.values.state : 'on';
    if (state !== 'on' && state !== 'off') throw new UsageError(`--state "${state}": expected on or off`);
    const json = args.values.json === true;

    return withApi(stderr, 'relay', async () => {
      const client = clientFromArgs(args, env);
      const result = await client.command({ action: 'force', output: outputId, state, for: forText });
      if (!result.ok) {
        stderr.write(`vigil relay: ${result.error}\n`);
        return EXIT_INVALID_INPUT;
      }
      const say = (line: string): void => {
        if (!json) stdout.write(line + '\n');
      };
      say(`${outputId} forced ${state} for ${forText}: the agent switches it back by itself at the end, even if this command is killed. Ctrl-C releases it now.`);

      let stopped = false;
      void stopRequested.then(() => (stopped = true));
      const startedAt = Date.now();
      const samples: Sample[] = [];
      const progress = json ? undefined : countdown(stderr);
      let forcedBy: string | undefined;
      let lastPrinted = -1;
      let ending: Ending;
      let last: OutputStatusView;
      try {
        for (;;) {
          last = await outputOf(client, outputId);
          const remainingMs = last.override?.remainingMs ?? null;
          samples.push({ atMs: Date.now() - startedAt, state: last.state, feedback: last.feedback, delivery: last.delivery, remainingMs });
          if (!last.override) {
            ending = 'expired';
            break;
          }
          forcedBy ??= last.override.by;
          if (last.override.by !== forcedBy || last.override.state !== state) {
            ending = 'taken-over';
            break;
          }
          const left = Math.ceil(last.override.remainingMs / 1000);
          progress?.show(`${bar(forMs - last.override.remainingMs, forMs)} ${describe(last)}, ${left}s left`);
          // Without a terminal, one line a second: readable in a log or a pipe.
          if (!json && !(stderr as { isTTY?: boolean }).isTTY && left !== lastPrinted) {
            lastPrinted = left;
            say(`  ${describe(last)}, ${left}s left`);
          }
          if (stopped) {
            progress?.clear();
            const release = await client.command({ action: 'release', output: outputId });
            last = await outputOf(client, outputId);
            say(release.ok ? `interrupted: released ${outputId} at once; now ${describe(last)} (${last.cause})` : `interrupted: ${release.error}`);
            ending = 'released';
            if (!release.ok && last.override) return EXIT_RUNTIME_FAILURE;
            break;
          }
          await Promise.race([new Promise((resolve) => setTimeout(resolve, WATCH_MS)), stopRequested]);
        }
      } catch (error) {
        if (!(error instanceof AgentUnreachableError)) throw error;
        progress?.clear();
        stderr.write(
          `vigil relay: lost the agent during the test (${error.message}).\n` +
            `The force ends by itself: the agent restores ${outputId} at the expiry (after a restart, for what was left of it).\n`,
        );
        return EXIT_RUNTIME_FAILURE;
      } finally {
        progress?.clear();
      }
      if (ending === 'expired') say(`expired: ${outputId} is back under its rule: ${describe(last)} (${last.cause})`);
      if (ending === 'taken-over') say(`${outputId} was forced again by ${last.override?.by ?? 'someone else'}: no longer watching it`);
      if (json) stdout.write(JSON.stringify({ output: outputId, state, forMs, ending, final: last, samples }, null, 2) + '\n');
      return ending === 'taken-over' ? EXIT_RUNTIME_FAILURE : EXIT_OK;
    });
  },
};
