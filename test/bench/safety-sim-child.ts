/**
 * The simulator of bench:safety in its own process (so the slaves do not share the agent's event loop): gas
 * probes and a relay board behind one wire-timed RS-485 line. Reads its options as JSON from argv[2], prints
 * the TCP port as one JSON line, then takes commands on stdin, one per line:
 *   "high" / "low"  set the concentration of the crossing probe to options.high / options.low
 * Serves until killed (or until stdin closes).
 */
import { createInterface } from 'node:readline';
import { loadProfiles, shippedProfileDir } from '../../config/load/index.js';
import type { LineSettings } from '../../drivers/modbus/rtu.js';
import { startTcpSimulator } from '../../drivers/simulator/index.js';

export interface SafetySimOptions {
  line: LineSettings;
  turnaroundMs: number;
  /** The probe whose concentration crosses the setpoint. */
  crossingUnit: number;
  /** Other gas probes, at `low` all the time. */
  otherUnits: number[];
  relayUnit: number;
  /** Concentrations in %LEL (the probes announce %LEL with one decimal: unit_code 0x2400). */
  low: number;
  high: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SafetySimOptions;
  const { profiles, errors } = loadProfiles([shippedProfileDir()]);
  if (errors.length > 0) throw new Error(`profiles: ${errors.map((e) => e.message).join('; ')}`);
  const gas = profiles.get('gas-module-10reg')?.profile;
  const relays = profiles.get('relay-board-8ch')?.profile;
  if (!gas || !relays) throw new Error('shipped profiles gas-module-10reg / relay-board-8ch not found');

  const probe = (unit: number) => ({
    unit,
    profile: gas,
    values: { unit_code: { constant: 0x2400 }, concentration: { constant: options.low } },
  });
  const simulator = await startTcpSimulator({
    host: '127.0.0.1',
    port: 0,
    devices: [probe(options.crossingUnit), ...options.otherUnits.map(probe), { unit: options.relayUnit, profile: relays }],
    wireTiming: { line: options.line, turnaroundMs: options.turnaroundMs },
  });
  if (simulator.endpoint.kind !== 'tcp') throw new Error('expected a TCP simulator');

  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    const command = line.trim();
    if (command === 'high' || command === 'low') {
      simulator.setValue(options.crossingUnit, 'concentration', { constant: command === 'high' ? options.high : options.low });
    } else if (command !== '') {
      process.stderr.write(`safety-sim-child: unknown command ${JSON.stringify(command)}\n`);
    }
  });
  const close = () => void simulator.close().then(() => process.exit(0));
  commands.on('close', close);
  process.on('SIGTERM', close);
  process.stdout.write(JSON.stringify({ port: simulator.endpoint.port }) + '\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) void main();
