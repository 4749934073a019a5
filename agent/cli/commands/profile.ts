import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { checkProfileFile, checkProfileText, formatErrors, packageRoot, type Profile } from '../../../config/index.js';
import type { LineSettings } from '../../../drivers/modbus/index.js';
import {
  describeLine,
  describeTransport,
  examineDevice,
  FieldBusSession,
  parseSavedScan,
  probeUnit,
  writeSkeleton,
  type AnsweredRegister,
} from '../../technician/index.js';
import { BUS_OPTIONS, integerOption, transportOf } from '../bus-args.js';
import type { Command, CommandContext, ParsedCommandArgs } from '../command.js';
import { EXIT_INVALID_INPUT, EXIT_OK, EXIT_RUNTIME_FAILURE, UsageError } from '../exit-codes.js';
import { availableProfiles } from '../profile-source.js';

const PROFILE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

interface DraftFacts {
  unit: number;
  line: LineSettings | null;
  registers: AnsweredRegister[];
  templateId: string | null;
  source: string;
}

function stringOption(args: ParsedCommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

function idFor(file: string, given: string | undefined): string {
  if (given !== undefined) {
    if (!PROFILE_ID.test(given)) throw new UsageError(`--id ${JSON.stringify(given)}: a profile id is lower-kebab-case, e.g. acme-h2s-probe`);
    return given;
  }
  const fromName = basename(file, extname(file)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return PROFILE_ID.test(fromName) ? fromName : 'new-device';
}

function factsFromScan(file: string, args: ParsedCommandArgs): DraftFacts {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--from ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let scan;
  try {
    scan = parseSavedScan(text, file);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const unit = integerOption(args, 'unit', 1, 247);
  const found = unit === undefined ? scan.devices : scan.devices.filter((d) => d.unit === unit);
  if (found.length === 0) {
    const units = scan.devices.map((d) => `${d.unit} (${d.lineText})`).join(', ') || 'none';
    throw new UsageError(`${file}: ${unit === undefined ? 'no device was found in that scan' : `no device with unit ${unit}`} (found: ${units})`);
  }
  const units = [...new Set(found.map((d) => d.unit))];
  if (units.length > 1) throw new UsageError(`${file} holds several devices (units ${units.join(', ')}): choose one with --unit`);
  const device = found[0]!;
  return {
    unit: device.unit,
    line: device.line,
    registers: device.registers,
    templateId: device.profile,
    source: `the scan of ${scan.endpoint} at ${scan.startedAt} (unit ${device.unit}, ${device.lineText})`,
  };
}

async function factsFromBus(args: ParsedCommandArgs, profiles: Profile[]): Promise<DraftFacts> {
  const transport = transportOf(args);
  const unit = integerOption(args, 'unit', 1, 247);
  if (unit === undefined) throw new UsageError('--unit is required with --port/--tcp');
  const timeoutMs = integerOption(args, 'timeout', 10, 30_000, 500);
  const span = integerOption(args, 'registers', 1, 125, 32);
  const session = await FieldBusSession.open(transport, { timeoutMs, retries: 1 });
  try {
    const { answer, failure } = await probeUnit(session, unit);
    if (!answer) throw new Error(`unit ${unit} on ${describeTransport(transport)} does not answer (${failure ?? 'no answer'})`);
    const line = transport.kind === 'serial' ? transport.line : (transport.line ?? null);
    const lineText = line ? describeLine(line) : 'tcp';
    const device = await examineDevice(session, { profiles, timeoutMs, surveySpan: span }, unit, line, lineText, answer);
    return {
      unit,
      line: transport.kind === 'serial' ? transport.line : null,
      registers: device.registers,
      templateId: device.profile,
      source: `unit ${unit} on ${describeTransport(transport)} at ${new Date().toISOString()}`,
    };
  } finally {
    await session.close();
  }
}

async function runNew(args: ParsedCommandArgs, { stdout, stderr }: CommandContext): Promise<number> {
  const file = args.positionals[1];
  if (file === undefined || args.positionals.length > 2) throw new UsageError('profile new needs exactly one output FILE');
  const from = stringOption(args, 'from');
  const live = args.values.port !== undefined || args.values.tcp !== undefined;
  if (from !== undefined && live) throw new UsageError('give either --from SCAN.json or --port/--tcp, not both');
  if (from === undefined && !live) throw new UsageError('say where the facts come from: --from SCAN.json (saved vigil scan --json) or --port/--tcp with --unit');
  const id = idFor(file, stringOption(args, 'id'));
  if (existsSync(file) && args.values.force !== true) {
    stderr.write(`vigil profile new: ${file} already exists; nothing written (use --force to overwrite)\n`);
    return EXIT_INVALID_INPUT;
  }
  const profileDir = stringOption(args, 'profile-dir');
  const profiles = availableProfiles(profileDir);
  const facts = from !== undefined ? factsFromScan(from, args) : await factsFromBus(args, profiles);
  const template = facts.templateId === null ? undefined : profiles.find((p) => p.id === facts.templateId);
  const schemaPath = relative(dirname(resolve(file)), join(packageRoot(), 'config', 'profile.schema.json'));
  const name = stringOption(args, 'name');
  const text = writeSkeleton({
    id,
    ...(name === undefined ? {} : { name }),
    unit: facts.unit,
    line: facts.line,
    registers: facts.registers,
    ...(template ? { template } : {}),
    source: facts.source,
    schemaPath,
  });
  const checked = checkProfileText(text, file);
  if (!checked.ok) {
    // The draft is meant to pass as written; if it does not, that is a fault here, not the technician's.
    stderr.write(`vigil profile new: the draft does not validate:\n${formatErrors(checked.errors, { color: false })}\n`);
    return EXIT_RUNTIME_FAILURE;
  }
  writeFileSync(file, text, { flag: args.values.force === true ? 'w' : 'wx' });
  const registers = checked.profile.registers.length;
  if (args.values.json === true) {
    stdout.write(JSON.stringify({ ok: true, file, id, registers, template: template?.id ?? null }, null, 2) + '\n');
  } else {
    stdout.write(
      `wrote ${file}: profile "${id}" with ${registers} register(s)${template ? `, fields from ${template.id} where it matches` : ''}\n` +
        `next: fill in the TODOs, then vigil profile check ${file}\n`,
    );
  }
  return EXIT_OK;
}

function runCheck(args: ParsedCommandArgs, { stdout }: CommandContext): number {
  const file = args.positionals[1];
  if (file === undefined || args.positionals.length > 2) throw new UsageError('profile check needs exactly one profile FILE');
  const result = checkProfileFile(file);
  if (args.values.json === true) {
    stdout.write(JSON.stringify(result.ok ? { ok: true, file, id: result.profile.id } : { ok: false, file, errors: result.errors }, null, 2) + '\n');
    return result.ok ? EXIT_OK : EXIT_INVALID_INPUT;
  }
  if (!result.ok) {
    stdout.write(formatErrors(result.errors, { color: Boolean(stdout.isTTY) }) + '\n');
    return EXIT_INVALID_INPUT;
  }
  const { profile } = result;
  stdout.write(`${file}: valid — profile "${profile.id}" (${profile.name}), ${profile.registers.length} register(s)\n`);
  return EXIT_OK;
}

export const profileCommand: Command = {
  name: 'profile',
  summary: 'Start a driver profile from a scan or a live device (profile new), or validate one (profile check).',
  usage: 'vigil profile new FILE (--from SCAN.json [--unit N] | --port PATH|--tcp HOST:PORT --unit N) [--id ID] [--force]\n       vigil profile check FILE [--json]',
  details:
    'profile new writes a draft: the line settings and unit the device answered on, one register per address that\n' +
    'answered, the fields of the best-fitting shipped profile where it has a register at the same address, and\n' +
    'TODO comments for what only the manual can say. It never overwrites a file unless --force. The draft passes\n' +
    'profile check as written. profile check reports every error with file:line:column, like vigil check.',
  options: {
    ...BUS_OPTIONS,
    from: { type: 'string', valueName: 'SCAN.json', description: 'A saved vigil scan --json result.' },
    unit: { type: 'string', valueName: 'N', description: 'The device (unit id) to describe.' },
    id: { type: 'string', valueName: 'ID', description: 'Profile id (default: from the file name).' },
    name: { type: 'string', valueName: 'TEXT', description: 'Maker and model.' },
    registers: { type: 'string', valueName: 'N', description: 'Live: how many addresses from 0 to survey in FC03/FC04 (default 32).' },
    'profile-dir': { type: 'string', valueName: 'DIR', description: 'An extra folder of driver profiles to match.' },
    force: { type: 'boolean', description: 'Overwrite FILE if it exists.' },
    json: { type: 'boolean', description: 'Print the result as JSON.' },
  },
  async run(args, context) {
    const sub = args.positionals[0];
    if (sub === 'new') return runNew(args, context);
    if (sub === 'check') return runCheck(args, context);
    throw new UsageError(sub === undefined ? 'expected a subcommand: new or check' : `unknown subcommand "${sub}" (expected new or check)`);
  },
};
