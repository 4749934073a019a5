/**
 * Options shared by the commands that talk to the running agent through its local API (status, events, buffer,
 * relay): where its socket is, and --json for scripts.
 */
import { loadSettings, SettingsError } from '../../config/index.js';
import { AgentUnreachableError, ApiClient, ApiError, apiSocketPath } from '../api/index.js';
import type { OptionSpec, ParsedCommandArgs } from './command.js';
import { EXIT_INVALID_INPUT, EXIT_RUNTIME_FAILURE } from './exit-codes.js';

export const API_OPTIONS: Record<string, OptionSpec> = {
  socket: {
    type: 'string',
    valueName: 'PATH',
    description: "The agent's API socket (default: the api.socket setting, else <dataDir>/vigil.sock).",
  },
  settings: { type: 'string', valueName: 'FILE', description: 'A settings file to find the socket from (as vigil run --settings).' },
  json: { type: 'boolean', description: 'Print JSON for scripts instead of text.' },
};

/** An error that ends a command with an exit code and a message (already worded for people). */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The socket from --socket, else from the settings (file, VIGIL_* environment), as `vigil run` would use it. */
export function socketFromArgs(args: ParsedCommandArgs, env: NodeJS.ProcessEnv): string {
  if (typeof args.values.socket === 'string') return args.values.socket;
  try {
    const file = args.values.settings;
    return apiSocketPath(loadSettings({ env, ...(typeof file === 'string' ? { file } : {}) }));
  } catch (error) {
    if (error instanceof SettingsError) throw new CommandFailure(error.message, EXIT_INVALID_INPUT);
    throw error;
  }
}

export function clientFromArgs(args: ParsedCommandArgs, env: NodeJS.ProcessEnv): ApiClient {
  return new ApiClient(socketFromArgs(args, env));
}

/** The agent not running, or refusing the request, as a message and exit code. */
export function describeApiFailure(error: unknown): { message: string; exitCode: number } | undefined {
  if (error instanceof CommandFailure) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof AgentUnreachableError) return { message: error.message, exitCode: EXIT_RUNTIME_FAILURE };
  if (error instanceof ApiError) return { message: `the agent refused: ${error.message}`, exitCode: error.status >= 400 && error.status < 500 && error.status !== 404 ? EXIT_INVALID_INPUT : EXIT_RUNTIME_FAILURE };
  return undefined;
}

/** Runs a command body; API failures become a message on stderr and their exit code. */
export async function withApi(stderr: NodeJS.WritableStream, name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const failure = describeApiFailure(error);
    if (!failure) throw error;
    stderr.write(`vigil ${name}: ${failure.message}\n`);
    return failure.exitCode;
  }
}
