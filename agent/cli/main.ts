#!/usr/bin/env node
import { checkCommand } from './commands/check.js';
import { demoCommand } from './commands/demo.js';
import { runCommand } from './commands/run.js';
import { simulateCommand } from './commands/simulate.js';
import { scanCommand } from './commands/scan.js';
import { readCommand } from './commands/read.js';
import { writeCommand } from './commands/write.js';
import { profileCommand } from './commands/profile.js';
import { statusCommand } from './commands/status.js';
import { eventsCommand } from './commands/events.js';
import { bufferCommand } from './commands/buffer.js';
import { relayCommand } from './commands/relay.js';
import { doctorCommand } from './commands/doctor.js';
import { commandHelp, parseCommandArgs, type Command, type CommandContext } from './command.js';
import { EXIT_INVALID_INPUT, EXIT_OK, EXIT_RUNTIME_FAILURE, UsageError } from './exit-codes.js';
import { packageVersion } from './paths.js';

const COMMANDS: Command[] = [runCommand, checkCommand, demoCommand, simulateCommand, statusCommand, eventsCommand, bufferCommand, relayCommand, scanCommand, readCommand, writeCommand, profileCommand, doctorCommand];

function overview(): string {
  const lines = [
    'vigil — edge agent for hazard-monitoring gateways (gas probes, crack gauges, relays)',
    '',
    'Usage: vigil COMMAND [options]    (vigil COMMAND --help for details)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
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
    process.stdout.write(topic ? commandHelp(topic) : overview());
    return EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`vigil: unknown command "${name}"\n\n${overview()}`);
    return EXIT_INVALID_INPUT;
  }
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
