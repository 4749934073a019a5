/**
 * The simulation file (YAML): which devices to simulate, on which transport, with which scripts and faults.
 * Used by `vigil simulate FILE` and the demo. Every problem in a file is reported at once, with its line.
 *
 *   transport: { tcp: { host: 127.0.0.1, port: 1502 } }     # or { serial: { path: /dev/ttyUSB1, baud: 9600 } }
 *   wireTiming: { turnaroundMs: 5 }                          # line: defaults to the serial line (or 9600 8N1)
 *   seed: 7
 *   devices:
 *     - unit: 1
 *       profile: gas-module-10reg
 *       values:
 *         concentration: { ramp: { from: 2, to: 30, overMs: 2m } }
 *         temperature: 18.5
 *       fault: { kind: slow, delayMs: 300 }               # or just: fault: silent
 *       faultProbability: 0.1
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { Profile } from '../../config/schema/index.js';
import { isComputed, serialLine } from '../../config/schema/index.js';
import type { LineSettings } from '../modbus/rtu.js';
import { SimDevice } from './device.js';
import { milliseconds, valueScript } from './scripts.js';
import type { SimDeviceSpec, SimFault, SimulatorOptions } from './types.js';

export type SimulationTransport = { tcp: { host: string; port: number } } | { serial: { path: string; line: LineSettings } };

export type LoadedSimulation = SimulatorOptions & { transport: SimulationTransport };

/** A fault; one without parameters may be written as its bare kind ("fault: silent"). */
const simFault = z.preprocess(
  (input) => (typeof input === 'string' ? { kind: input } : input),
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('silent') }),
    z.strictObject({ kind: z.literal('slow'), delayMs: milliseconds }),
    z.strictObject({ kind: z.literal('crc') }),
    z.strictObject({ kind: z.literal('exception'), code: z.number().int().min(1).max(255) }),
    z.strictObject({ kind: z.literal('garbage'), length: z.number().int().min(1).max(256).optional() }),
    z.strictObject({ kind: z.literal('warm-up') }),
    z.strictObject({ kind: z.literal('sensor-fault') }),
  ]),
);

const simulatedDevice = z.strictObject({
  unit: z.number().int().min(1).max(247),
  profile: z.string().min(1).meta({ description: 'Driver profile id.' }),
  name: z.string().optional().meta({ description: 'For the reader of the file only.' }),
  values: z
    .record(z.string(), valueScript)
    .default({})
    .meta({ description: 'Register name → value script (a bare number is a constant). Unscripted registers hold plausible defaults.' }),
  fault: simFault.nullable().optional(),
  faultProbability: z.number().min(0).max(1).optional().meta({ description: 'Chance that the fault applies to a request.' }),
});

const defaultLine: LineSettings = serialLine.parse({});

export const simulationFile = z
  .strictObject({
    $schema: z.string().optional(),
    transport: z.union([
      z.strictObject({
        tcp: z.strictObject({
          host: z.string().min(1).default('127.0.0.1'),
          port: z.number().int().min(0).max(65535).default(0).meta({ description: '0 = any free port.' }),
        }),
      }),
      z.strictObject({
        serial: serialLine
          .extend({ path: z.string().min(1) })
          .transform(({ path, ...line }) => ({ path, line: line as LineSettings })),
      }),
    ]),
    wireTiming: z
      .strictObject({
        line: serialLine.optional().meta({ description: 'Line to emulate; default the serial line, or 9600 8N1.' }),
        turnaroundMs: milliseconds.default(0),
      })
      .optional()
      .meta({ description: 'Emulate real RS-485 timing (for TCP and ptys, which have none).' }),
    seed: z.number().int().optional(),
    devices: z.array(simulatedDevice).min(1),
  })
  .meta({ title: 'Vigil simulation', description: 'Simulated Modbus RTU devices for tests, demos and rehearsals.' });

export type SimulationFileInput = z.input<typeof simulationFile>;

/** A simulation file that cannot be used; `problems` lists every reason, each with its line and path. */
export class SimulationFileError extends Error {
  override name = 'SimulationFileError';

  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid simulation file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type PathPart = string | number;

function formatPath(path: readonly PathPart[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

export function loadSimulationFile(file: string, profiles: Map<string, Profile>): LoadedSimulation {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SimulationFileError(file, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseSimulation(text, file, profiles);
}

/** Parses and checks simulation YAML; `file` names it in errors. */
export function parseSimulation(text: string, file: string, profiles: Map<string, Profile>): LoadedSimulation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new SimulationFileError(
      file,
      doc.errors.map((e) => `line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`),
    );
  }
  const where = (path: readonly PathPart[]): string => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return `line ${lineCounter.linePos(node.range[0]).line}: `;
    }
    return '';
  };
  const problem = (path: readonly PathPart[], message: string): string =>
    `${where(path)}${path.length ? `${formatPath(path)}: ` : ''}${message}`;

  const parsed = simulationFile.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new SimulationFileError(
      file,
      parsed.error.issues.map((issue) => problem(issue.path.filter((p): p is PathPart => typeof p !== 'symbol'), issue.message)),
    );
  }
  const data = parsed.data;
  const problems: string[] = [];
  const specs: SimDeviceSpec[] = [];
  const units = new Map<number, number>();
  data.devices.forEach((entry, i) => {
    const seenAt = units.get(entry.unit);
    if (seenAt !== undefined) problems.push(problem(['devices', i, 'unit'], `unit ${entry.unit} is already used by devices[${seenAt}]`));
    else units.set(entry.unit, i);
    const profile = profiles.get(entry.profile);
    if (!profile) {
      const known = [...profiles.keys()].sort().join(', ') || 'none loaded';
      problems.push(problem(['devices', i, 'profile'], `unknown profile "${entry.profile}" (known: ${known})`));
      return;
    }
    let registersOk = true;
    for (const name of Object.keys(entry.values)) {
      const register = profile.registers.find((r) => r.name === name);
      if (!register) {
        registersOk = false;
        const known = profile.registers.filter((r) => !isComputed(r)).map((r) => r.name).join(', ');
        problems.push(problem(['devices', i, 'values', name], `unknown register "${name}" in profile ${profile.id} (it has: ${known})`));
      } else if (isComputed(register)) {
        registersOk = false;
        problems.push(
          problem(['devices', i, 'values', name], `register "${name}" is computed (${register.compute}): script the registers it uses instead`),
        );
      }
    }
    const spec: SimDeviceSpec = { unit: entry.unit, profile, values: entry.values };
    if (entry.fault !== undefined) spec.fault = entry.fault;
    if (entry.faultProbability !== undefined) spec.faultProbability = entry.faultProbability;
    if (registersOk) {
      // building the device checks what only the profile can tell (a fault it cannot express, etc.)
      let device: SimDevice | null = null;
      try {
        device = new SimDevice({ ...spec, fault: null }, data.seed ?? 1);
      } catch (error) {
        problems.push(problem(['devices', i], (error as Error).message));
      }
      try {
        device?.setFault(spec.fault ?? null);
      } catch (error) {
        problems.push(problem(['devices', i, 'fault'], (error as Error).message));
      }
    }
    specs.push(spec);
  });
  if (problems.length > 0) throw new SimulationFileError(file, problems);

  const transport: SimulationTransport = data.transport;
  const loaded: LoadedSimulation = { transport, devices: specs };
  if (data.seed !== undefined) loaded.seed = data.seed;
  if (data.wireTiming) {
    const line = data.wireTiming.line ?? ('serial' in transport ? transport.serial.line : defaultLine);
    loaded.wireTiming = { line: line as LineSettings, turnaroundMs: data.wireTiming.turnaroundMs };
  }
  return loaded;
}
