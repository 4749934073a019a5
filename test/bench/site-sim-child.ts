/**
 * A simulated site in its own process, for benchmarks that run the agent as a child too (bench:budget): the
 * agent's CPU and memory must not include the simulator's. It serves raw RTU over TCP, or over a serial port (one
 * end of a socat pty pair) when `serialPath` is given. Reads its options as JSON from argv[2]; prints
 *   {"port": N}                       once listening (N is 0 on a serial port),
 *   {"firstRequestAt": ms}            when the first valid request arrives (performance.timeOrigin + now),
 *   {"stats": {...}}                  for every line "stats" on stdin,
 * and serves until killed. The first-request line is what measures start-to-first-poll from outside the agent.
 */
import { createInterface } from 'node:readline';
import type { LineSettings } from '../../drivers/modbus/rtu.js';
import { startSerialSimulator, startTcpSimulator, type RunningSimulator, type ValueScript } from '../../drivers/simulator/index.js';
import { loadProfiles, shippedProfileDir } from '../../config/load/index.js';

export interface SiteSimChildOptions {
  devices: Array<{ unit: number; profile: string; values?: Record<string, ValueScript> }>;
  wireTiming?: { line: LineSettings; turnaroundMs: number };
  /** Serve on this serial port (needs wireTiming for its line settings) instead of TCP. */
  serialPath?: string;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SiteSimChildOptions;
  const { profiles, errors } = loadProfiles([shippedProfileDir()]);
  if (errors.length > 0) throw new Error(`profiles: ${errors.map((e) => e.message).join('; ')}`);
  const shippedProfile = (id: string) => {
    const found = profiles.get(id);
    if (!found) throw new Error(`no shipped profile ${id}`);
    return found.profile;
  };
  const devices = options.devices.map((d) => ({ unit: d.unit, profile: shippedProfile(d.profile), values: d.values ?? {} }));
  const timing = options.wireTiming ? { wireTiming: options.wireTiming } : {};
  let simulator: RunningSimulator;
  if (options.serialPath) {
    if (!options.wireTiming) throw new Error('a serial simulator needs wireTiming.line');
    simulator = await startSerialSimulator({ path: options.serialPath, line: options.wireTiming.line, devices, ...timing });
  } else {
    simulator = await startTcpSimulator({ host: '127.0.0.1', port: 0, devices, ...timing });
  }
  process.stdout.write(JSON.stringify({ port: simulator.endpoint.kind === 'tcp' ? simulator.endpoint.port : 0 }) + '\n');
  // Watch for the first request closely (1 ms), then stop watching: the cost ends with the first poll.
  const watch = setInterval(() => {
    if (simulator.stats().requests > 0) {
      clearInterval(watch);
      process.stdout.write(JSON.stringify({ firstRequestAt: performance.timeOrigin + performance.now() }) + '\n');
    }
  }, 1);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(JSON.stringify({ stats: simulator.stats() }) + '\n');
  });
  process.stdin.on('end', () => void simulator.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => void simulator.close().then(() => process.exit(0)));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) void main();
