/**
 * The simulator in its own process, so a benchmark's master and slaves do not share one event loop (as on a
 * real wire, where the slaves are other machines). Reads its options as JSON from argv[2], prints the TCP port
 * as one JSON line, serves until killed.
 */
import { profile } from '../../config/schema/profile.js';
import type { LineSettings } from '../../drivers/modbus/rtu.js';
import { startTcpSimulator, type SimFault } from '../../drivers/simulator/index.js';

export interface SimChildOptions {
  units: Array<{ unit: number; fault?: SimFault | null }>;
  registers: number;
  line: LineSettings;
  turnaroundMs: number;
}

/** A device with `count` plain holding registers from address 0: the shape of a typical gas-probe block. */
export function blockProfile(count: number) {
  return profile.parse({
    id: 'bench-block',
    name: 'Benchmark register block',
    addressBase: 0,
    registers: Array.from({ length: count }, (_, i) => ({ name: `r${i}`, fn: 3, address: i, type: 'u16' })),
  });
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SimChildOptions;
  const deviceProfile = blockProfile(options.registers);
  const simulator = await startTcpSimulator({
    host: '127.0.0.1',
    port: 0,
    devices: options.units.map(({ unit, fault }) => ({
      unit,
      profile: deviceProfile,
      values: Object.fromEntries(deviceProfile.registers.map((r, i) => [r.name, { constant: unit * 100 + i }])),
      fault: fault ?? null,
    })),
    wireTiming: { line: options.line, turnaroundMs: options.turnaroundMs },
  });
  if (simulator.endpoint.kind !== 'tcp') throw new Error('expected a TCP simulator');
  process.stdout.write(JSON.stringify({ port: simulator.endpoint.port }) + '\n');
  process.on('SIGTERM', () => void simulator.close().then(() => process.exit(0)));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) void main();
