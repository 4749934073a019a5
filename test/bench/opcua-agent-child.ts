/**
 * One agent in its own process, for bench:opcua and for the test that proves a disabled OPC UA server never
 * loads node-opcua. Reads its options as JSON from argv[2]; prints one JSON line when ready (first reading
 * published and, when enabled, the OPC UA server listening), then serves until SIGTERM (or exits at once with
 * `exitWhenReady`).
 *
 * Ready line: { readyMs, rssBytes, heapUsedBytes, opcuaLoaded, firstReadingMs }
 *   readyMs          process start → ready (performance.now(), which counts from process start)
 *   opcuaLoaded      whether any node-opcua module is in the CommonJS module cache (node-opcua is CommonJS,
 *                    so even an import() of it lands there)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadProfiles, loadSettings, shippedProfileDir, site as siteSchema, type SiteInput } from '../../config/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startAgent } from '../../agent/main/index.js';

export interface OpcuaAgentChildOptions {
  /** Simulator (RTU over TCP) port, serving gas probes at units 1..channels. */
  simPort: number;
  channels: number;
  intervalMs: number;
  opcua: { port: number; usersFileText: string } | null;
  exitWhenReady?: boolean;
}

export interface OpcuaAgentChildReady {
  readyMs: number;
  firstReadingMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  opcuaLoaded: boolean;
}

export function childSite(options: Pick<OpcuaAgentChildOptions, 'simPort' | 'channels' | 'intervalMs'>): SiteInput {
  return {
    site: { id: 'bench', name: 'bench:opcua' },
    buses: [{ id: 'rs485', tcp: { host: '127.0.0.1', port: options.simPort }, timeoutMs: 200, retries: 0 }],
    devices: Array.from({ length: options.channels }, (_, i) => ({
      id: `probe${i + 1}`,
      bus: 'rs485',
      unit: i + 1,
      profile: 'gas-module-10reg',
      priority: 'critical' as const,
      interval: `${options.intervalMs}ms`,
      channels: [{ id: `tank${i + 1}.ch4`, register: 'concentration', range: { min: 0, max: 100 }, alarm: { gas: 'ch4' as const } }],
    })),
  };
}

function opcuaLoaded(): boolean {
  const cache = createRequire(import.meta.url).cache;
  return Object.keys(cache).some((path) => path.includes('/node_modules/node-opcua'));
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as OpcuaAgentChildOptions;
  const { profiles: loaded, errors } = loadProfiles([shippedProfileDir()]);
  if (errors.length > 0) throw new Error(`profiles: ${errors.map((e) => e.message).join('; ')}`);
  const profiles = new Map([...loaded].map(([id, { profile }]) => [id, profile]));
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-opcua-child-'));
  const args: Record<string, unknown> = { dataDir };
  if (options.opcua) {
    const usersFile = join(dataDir, 'users');
    writeFileSync(usersFile, options.opcua.usersFileText);
    Object.assign(args, { 'opcua.enabled': true, 'opcua.port': options.opcua.port, 'opcua.usersFile': usersFile, 'opcua.trustUnknownClients': true });
  }
  const settings = loadSettings({ env: {}, args });
  const agent = await startAgent({ site: siteSchema.parse(childSite(options)), profiles, logger: silentLogger(), dataDir, settings });
  const firstReadingMs = await new Promise<number>((resolve) => {
    const off = agent.stream.subscribe(() => {
      off();
      resolve(performance.now());
    });
  });
  if (agent.opcua) {
    const server = await agent.opcua.ready;
    if (!server) throw new Error('OPC UA server did not start');
  }
  const readyMs = performance.now();
  // Let a few polls pass so the figures are of a running agent, not of one mid-start.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const memory = process.memoryUsage();
  const ready: OpcuaAgentChildReady = { readyMs, firstReadingMs, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, opcuaLoaded: opcuaLoaded() };
  process.stdout.write(JSON.stringify(ready) + '\n');
  const stop = async () => {
    await agent.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  if (options.exitWhenReady) await stop();
  process.on('SIGTERM', () => void stop());
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) void main();
