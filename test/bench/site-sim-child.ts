/**
 * A simulated site in its own process, for benchmarks that run the agent as a child too (bench:budget): the
 * agent's CPU and memory must not include the simulator's. Reads its options as JSON from argv[2]; prints
 *   {"port": N}                       once listening,
 *   {"firstRequestAt": ms}            when the first valid request arrives (performance.timeOrigin + now),
 *   {"stats": {...}}                  for every line "stats" on stdin,
 * and serves until killed. The first-request line is what measures start-to-first-poll from outside the agent.
 */
import { createInterface } from 'node:readline';
import type { LineSettings } from '../../drivers/modbus/rtu.js';
import { startTcpSimulator, type ValueScript } from '../../drivers/simulator/index.js';
import { loadProfiles, shippedProfileDir } from '../../config/load/index.js';

export interface SiteSimChildOptions {
  devices: Array<{ unit: number; profile: string; values?: Record<string, ValueScript> }>;
  wireTiming?: { line: LineSettings; turnaroundMs: number };
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
  const simulator = await startTcpSimulator({
    host: '127.0.0.1',
    port: 0,
    devices: options.devices.map((d) => ({ unit: d.unit, profile: shippedProfile(d.profile), values: d.values ?? {} })),
    ...(options.wireTiming ? { wireTiming: options.wireTiming } : {}),
  });
  if (simulator.endpoint.kind !== 'tcp') throw new Error('expected a TCP simulator');
  process.stdout.write(JSON.stringify({ port: simulator.endpoint.port }) + '\n');
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
