#!/usr/bin/env node
import { commandHelp, parseCommandArgs, type Command, type CommandContext } from './command.js';
import { EXIT_INVALID_INPUT, EXIT_OK, EXIT_RUNTIME_FAILURE, UsageError } from './exit-codes.js';
import { packageVersion } from './paths.js';

/**
 * Each command is loaded only when it runs: the service (`vigil run`) then holds none of the technician tools,
 * the simulator or the doctor in memory, which on a Pi-class gateway is megabytes of its budget.
 */
const COMMANDS: ReadonlyArray<{ name: string; load(): Promise<Command> }> = [
  { name: 'run', load: async () => (await import('./commands/run.js')).runCommand },
  { name: 'check', load: async () => (await import('./commands/check.js')).checkCommand },
  { name: 'demo', load: async () => (await import('./commands/demo.js')).demoCommand },
  { name: 'simulate', load: async () => (await import('./commands/simulate.js')).simulateCommand },
  { name: 'status', load: async () => (await import('./commands/status.js')).statusCommand },
  { name: 'events', load: async () => (await import('./commands/events.js')).eventsCommand },
  { name: 'buffer', load: async () => (await import('./commands/buffer.js')).bufferCommand },
  { name: 'relay', load: async () => (await import('./commands/relay.js')).relayCommand },
  { name: 'scan', load: async () => (await import('./commands/scan.js')).scanCommand },
  { name: 'read', load: async () => (await import('./commands/read.js')).readCommand },
  { name: 'write', load: async () => (await import('./commands/write.js')).writeCommand },
  { name: 'profile', load: async () => (await import('./commands/profile.js')).profileCommand },
  { name: 'doctor', load: async () => (await import('./commands/doctor.js')).doctorCommand },
];

async function overview(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  const lines = [
    'vigil — edge agent for hazard-monitoring gateways (gas probes, crack gauges, relays)',
    '',
    'Usage: vigil COMMAND [options]    (vigil COMMAND --help for details)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    '',
    'Exit codes: 0 fine, 2 invalid input (nothing was changed), 1 runtime failure.',
  ];
  return lines.join('\n') + '\n';
}

function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handler = (signal: string): void => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    process.stdout.write(topic ? commandHelp(await topic.load()) : await overview());
    return EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`vigil: unknown command "${name}"\n\n${await overview()}`);
    return EXIT_INVALID_INPUT;
  }
  const command = await entry.load();
  const context: CommandContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stopRequested: stopSignal(),
  };
  try {
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      process.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    return await command.run(args, context);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`vigil ${command.name}: ${error.message}\n\n${commandHelp(command)}`);
      return EXIT_INVALID_INPUT;
    }
    const invalid = error instanceof Error && 'exitCode' in error && error.exitCode === EXIT_INVALID_INPUT;
    process.stderr.write(`vigil ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return invalid ? EXIT_INVALID_INPUT : EXIT_RUNTIME_FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`vigil: ${String(error)}\n`);
    process.exit(EXIT_RUNTIME_FAILURE);
  },
);
