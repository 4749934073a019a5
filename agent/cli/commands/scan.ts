import type { LineSettings } from '../../../drivers/modbus/index.js';
import { describeLine, runScan, type FoundDevice, type ScanResult } from '../../technician/index.js';
import { BUS_OPTIONS, endpointOf, integerOption, linesToScan, parseUnits } from '../bus-args.js';
import type { Command } from '../command.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, UsageError } from '../exit-codes.js';
import { availableProfiles } from '../profile-source.js';
import { createProgress, formatDuration } from '../progress.js';

const DEFAULT_BAUDS = [9600, 19200, 4800, 38400, 115200];
const DEFAULT_PARITIES: Array<LineSettings['parity']> = ['none', 'even'];
const DEFAULT_TIMEOUT_MS = 200;
const ALL_UNITS = '1-247';

function answerText(device: FoundDevice): string {
  return device.answer.kind === 'registers'
    ? `0x${(device.answer.words[0] ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
    : `exception ${device.answer.code}`;
}

function valuesOf(device: FoundDevice, profileId: string): string {
  const match = device.candidates.find((m) => m.profileId === profileId);
  const shown = (match?.readings ?? []).filter((r) => r.value !== null).slice(0, 3);
  return shown.map((r) => `${r.register} ${r.value}${r.unit ? ` ${r.unit}` : ''}`).join(', ');
}

/** The verdict on one device in one line, for the "found" notes. */
function verdictLine(device: FoundDevice): string {
  const where = `unit ${device.unit} at ${device.lineText}`;
  if (device.profile) return `found ${where}: ${device.profile}`;
  if (device.tied.length > 0) return `found ${where}: ${device.tied.join(' or ')} (equal evidence)`;
  return `found ${where}: no shipped profile fits`;
}

function renderResult(result: ScanResult): string {
  const lines: string[] = [];
  if (result.devices.length > 0) {
    lines.push(`${'unit'.padStart(4)}  ${'line'.padEnd(10)} ${'probe'.padEnd(12)} profile`);
    for (const device of result.devices) {
      const lead = `${String(device.unit).padStart(4)}  ${device.lineText.padEnd(10)} ${answerText(device).padEnd(12)} `;
      const indent = ' '.repeat(lead.length);
      const best = device.candidates[0];
      if (device.profile && best) {
        lines.push(`${lead}${device.profile} (evidence ${best.score}): ${best.reasons.slice(0, 3).join('; ')}`);
        const values = valuesOf(device, device.profile);
        if (values) lines.push(`${indent}reads ${values}`);
      } else if (device.tied.length > 0) {
        lines.push(`${lead}ambiguous: ${device.tied.join(', ')} fit equally; compare with the device's display:`);
        for (const id of device.tied) lines.push(`${indent}  ${id}: ${valuesOf(device, id) || 'no values'}`);
      } else {
        lines.push(`${lead}no shipped profile fits: start one with vigil profile new`);
      }
      const others = device.candidates.filter((m) => m.profileId !== device.profile && !device.tied.includes(m.profileId));
      if (others.length > 0) lines.push(`${indent}also plausible, weaker: ${others.map((m) => `${m.profileId} (${m.score})`).join(', ')}`);
      if (device.partial) lines.push(`${indent}(checks cut short by the stop)`);
    }
    lines.push('');
  }
  for (const garbled of result.garbled) {
    lines.push(`unit ${garbled.unit} at ${garbled.line}: bytes without a valid frame (${garbled.failure}): a device at other line settings?`);
  }
  const probes = `${result.probes.done} of ${result.probes.total} probes`;
  const took = formatDuration(result.durationMs);
  if (result.error) lines.push(`scan stopped: ${result.error}`);
  if (result.interrupted) lines.push(`scan interrupted after ${probes}; the results above are what was found so far.`);
  lines.push(`${result.devices.length} device(s) found in ${took} (${probes}).`);
  return lines.join('\n') + '\n';
}

export const scanCommand: Command = {
  name: 'scan',
  summary: 'Find the devices on a bus: walk baud rates, parities and unit ids; name the profiles that fit each.',
  usage: 'vigil scan (--port PATH | --tcp HOST:PORT) [--baud 9600,19200] [--parity none,even] [--units 1-10] [--timeout MS] [--json]',
  details:
    'Each unit id is asked for holding register 0 (FC03); any valid answer, a Modbus exception included, means a\n' +
    'device is there. For each device found, every shipped profile is read and judged: reads without exception,\n' +
    'values within their physical ranges, status and unit codes the profile knows, an address register that holds\n' +
    'the unit id. Plausible profiles are ranked by that evidence, with the reasons; and the addresses 0x0000-0x000F\n' +
    'that answer (FC03, FC04) are noted for `vigil profile new`. Over --tcp the device server fixes the line, so\n' +
    'only unit ids are walked. Default walk: baud 9600,19200,4800,38400,115200 × parity none,even × units 1-247,\n' +
    `timeout ${DEFAULT_TIMEOUT_MS} ms. Ctrl-C stops the walk and prints what was found so far (exit 0).`,
  options: {
    ...BUS_OPTIONS,
    baud: { type: 'string', valueName: 'B[,B…]', description: 'Baud rates to try, in order.' },
    parity: { type: 'string', valueName: 'P[,P…]', description: 'Parities to try: none, even, odd.' },
    units: { type: 'string', valueName: 'LIST', description: 'Unit ids to try, e.g. 1-10,15 (default 1-247).' },
    timeout: { type: 'string', valueName: 'MS', description: `How long to wait for each unit, ms (default ${DEFAULT_TIMEOUT_MS}).` },
    'profile-dir': { type: 'string', valueName: 'DIR', description: 'An extra folder of driver profiles to match.' },
    json: { type: 'boolean', description: 'Print the result as JSON (save it for vigil profile new --from).' },
  },
  async run(args, { stdout, stderr, stopRequested }) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const endpoint = endpointOf(args);
    const timeoutMs = integerOption(args, 'timeout', 10, 30_000, DEFAULT_TIMEOUT_MS);
    const units = parseUnits(typeof args.values.units === 'string' ? args.values.units : ALL_UNITS);
    let lines: Array<LineSettings | null>;
    if (endpoint.kind === 'tcp') {
      const walked = linesToScan(args, { bauds: [9600], parities: ['none'] });
      if (walked.length > 1) {
        throw new UsageError('over --tcp the device server fixes baud and parity: give at most one of each (used for timing)');
      }
      lines = args.values.baud === undefined && args.values.parity === undefined ? [null] : walked;
    } else {
      lines = linesToScan(args, { bauds: DEFAULT_BAUDS, parities: DEFAULT_PARITIES });
    }
    const profileDir = typeof args.values['profile-dir'] === 'string' ? args.values['profile-dir'] : undefined;
    const profiles = availableProfiles(profileDir);
    const json = args.values.json === true;

    let stopping = false;
    void stopRequested.then(() => {
      stopping = true;
    });
    const total = lines.length * units.length;
    const progress = createProgress({ stream: stderr as NodeJS.WritableStream & { isTTY?: boolean }, total, stepGuessMs: timeoutMs + 10 });
    const out = json ? undefined : stdout;
    if (out) {
      const walked = lines.map((l) => (l ? describeLine(l) : 'the device server\'s line'));
      out.write(
        `scanning ${endpoint.kind === 'serial' ? endpoint.path : `tcp ${endpoint.host}:${endpoint.port}`}: ` +
          `${walked.join(', ')} × ${units.length} unit id(s), timeout ${timeoutMs} ms (about ${formatDuration(total * (timeoutMs + 10))} if nothing answers); Ctrl-C keeps what was found\n`,
      );
    }
    const result = await runScan(
      { endpoint, lines, units, timeoutMs, profiles },
      {
        shouldStop: () => stopping,
        onProgress: (p) => progress.update(p.done, p.line ? `${p.line} unit ${p.unit} · ${p.found} found` : `${p.found} found`),
        onFound: (device) => progress.note(verdictLine(device), out),
      },
    );
    progress.finish();
    if (json) stdout.write(JSON.stringify(result, null, 2) + '\n');
    else stdout.write('\n' + renderResult(result));
    return result.error ? EXIT_RUNTIME_FAILURE : EXIT_OK;
  },
};
