/**
 * bench:opcua — what the OPC UA server costs the gateway.
 *
 *  1. Memory and start: an agent in its own process (8 gas probes behind a simulator), started `--runs` times
 *     with OPC UA off and on: RSS and heap one second after ready, process start → first reading, and
 *     process start → ready (first reading published and, with OPC UA, the server listening). Certificates are
 *     created on every start here (fresh data folder), so "ready" includes that one-time cost.
 *  2. Safety-loop latency (the bench:safety scenario, reused): reading that crosses the setpoint → relay write
 *     on the wire, p50/p99/max, with OPC UA off, and with OPC UA on while 5 clients (another process) subscribe
 *     to every channel at 100 ms over Basic256Sha256 / SignAndEncrypt.
 *
 * Usage: npm run bench:opcua [-- --runs 3 --crossings 60 --json FILE]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadProfiles, loadSettings, shippedProfileDir } from '../../config/index.js';
import { hashPassword } from '../../agent/opcua/index.js';
import { freePort } from '../support/ports.js';
import type { OpcuaAgentChildReady } from './opcua-agent-child.js';
import type { OpcuaClientsOptions } from './opcua-clients-child.js';
import { startChildSimulator } from './support/child-simulator.js';
import { startAgentChild, stopAgentChild } from './support/opcua-agent.js';
import { LINE, median, runScenario, type Result, type Scenario } from './support/safety-scenario.js';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, crossings: { type: 'string', default: '60' }, clients: { type: 'string', default: '5' }, json: { type: 'string' } },
});
const RUNS = Number(args.runs);
const CROSSINGS = Number(args.crossings);
const CLIENTS = Number(args.clients);
const INTERVAL_MS = 100;
const USER = { name: 'scada', password: 'bench-password' };
const MiB = 1024 * 1024;

async function startupFigures(usersFileText: string): Promise<{ off: OpcuaAgentChildReady[]; on: OpcuaAgentChildReady[] }> {
  const { child: sim, port: simPort } = await startChildSimulator(fileURLToPath(new URL('./safety-sim-child.js', import.meta.url)), {
    line: { baud: 115200, dataBits: 8, parity: 'none', stopBits: 1 },
    turnaroundMs: 2,
    crossingUnit: 1,
    otherUnits: [2, 3, 4, 5, 6, 7, 8],
    relayUnit: 10,
    low: 5,
    high: 40,
  });
  const off: OpcuaAgentChildReady[] = [];
  const on: OpcuaAgentChildReady[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const enabled of [false, true]) {
        const opcua = enabled ? { port: await freePort(), usersFileText } : null;
        const { child, ready } = await startAgentChild({ simPort, channels: 8, intervalMs: 200, opcua, exitWhenReady: true });
        await stopAgentChild(child);
        (enabled ? on : off).push(ready);
      }
    }
  } finally {
    sim.kill('SIGTERM');
  }
  return { off, on };
}

function subscribedClients(): NonNullable<Scenario['attach']> {
  return async (agent) => {
    const server = await agent.opcua?.ready;
    if (!server) throw new Error('bench:opcua: the OPC UA server did not start');
    const nodeIds = agent.site.devices.flatMap((d) => d.channels.map((c) => `ns=1;s=channel/${c.id}`));
    const options: OpcuaClientsOptions = {
      endpointUrl: server.endpointUrl.replace(/\/\/[^:/]+:/, '//127.0.0.1:'),
      userName: USER.name,
      password: USER.password,
      clients: CLIENTS,
      nodeIds,
      intervalMs: INTERVAL_MS,
    };
    const child = spawn(process.execPath, [fileURLToPath(new URL('./opcua-clients-child.js', import.meta.url)), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (output.includes('{"ready":true}')) {
          clearInterval(check);
          resolve();
        }
      }, 50);
      child.once('exit', (code) => {
        clearInterval(check);
        reject(new Error(`bench:opcua: clients exited with ${code}`));
      });
    });
    subscribedChannels = nodeIds.length;
    return async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      const line = output.split('\n').find((l) => l.startsWith('{"notifications"'));
      notifications = line ? (JSON.parse(line) as { notifications: number }).notifications : NaN;
    };
  };
}

let subscribedChannels = 0;
let notifications = NaN;

const mib = (bytes: number) => (bytes / MiB).toFixed(1);
const ms = (value: number) => value.toFixed(0);

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const hash = await hashPassword(USER.password);
  const usersFileText = `${USER.name}:viewer:${hash}\n`;
  const startup = await startupFigures(usersFileText);

  const { profiles: loaded, errors } = loadProfiles([shippedProfileDir()]);
  if (errors.length > 0) throw new Error(`profiles: ${errors.map((e) => e.message).join('; ')}`);
  const profiles = new Map([...loaded].map(([id, { profile }]) => [id, profile]));
  const folder = mkdtempSync(join(tmpdir(), 'vigil-bench-opcua-'));
  const usersFile = join(folder, 'users');
  writeFileSync(usersFile, usersFileText);
  const port = await freePort();
  const base = { dataDir: folder };
  const withoutOpcua = loadSettings({ env: {}, args: base });
  const withOpcua = loadSettings({
    env: {},
    args: { ...base, 'opcua.enabled': true, 'opcua.port': port, 'opcua.usersFile': usersFile, 'opcua.trustUnknownClients': true },
  });
  const results: Result[] = [];
  results.push(await runScenario({ name: 'OPC UA off', commitDelayMs: 0, crossings: CROSSINGS, settings: withoutOpcua }, profiles));
  results.push(
    await runScenario(
      { name: `OPC UA on, ${CLIENTS} clients`, commitDelayMs: 0, crossings: CROSSINGS, settings: withOpcua, attach: subscribedClients() },
      profiles,
    ),
  );
  rmSync(folder, { recursive: true, force: true });
  const loadAfter = loadavg()[0]!;

  const med = (list: OpcuaAgentChildReady[], pick: (r: OpcuaAgentChildReady) => number) => median(list.map(pick));
  console.log(`bench:opcua — node ${process.version}, host ${cpus().length} CPUs, load avg ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`);
  console.log(`\n1. agent process with 8 gas probes (median of ${RUNS} starts each; RSS and heap 1 s after ready)`);
  console.log(`${''.padEnd(24)} ${'OPC UA off'.padStart(12)} ${'OPC UA on'.padStart(12)} ${'difference'.padStart(12)}`);
  const row = (label: string, pick: (r: OpcuaAgentChildReady) => number, format: (n: number) => string, unit: string) => {
    const a = med(startup.off, pick);
    const b = med(startup.on, pick);
    console.log(`${label.padEnd(24)} ${(format(a) + unit).padStart(12)} ${(format(b) + unit).padStart(12)} ${((b - a >= 0 ? '+' : '') + format(b - a) + unit).padStart(12)}`);
  };
  row('RSS', (r) => r.rssBytes, mib, ' MiB');
  row('heap used', (r) => r.heapUsedBytes, mib, ' MiB');
  row('start → first reading', (r) => r.firstReadingMs, ms, ' ms');
  row('start → ready', (r) => r.readyMs, ms, ' ms');
  console.log('("ready" with OPC UA on = the server listening, certificates created in a fresh data folder)');

  const [off, on] = results as [Result, Result];
  console.log(
    `\n2. safety loop: probe read crossing the setpoint → relay write on the wire (bench:safety scenario, 9600 8N1, 8 probes every 50 ms), ` +
      `${CROSSINGS} ON + ${CROSSINGS} OFF crossings; clients: ${CLIENTS} × ${subscribedChannels} channels @ ${INTERVAL_MS} ms, SignAndEncrypt`,
  );
  console.log(`${''.padEnd(24)} ${off.scenario.padStart(14)} ${on.scenario.padStart(22)}`);
  for (const dir of ['on', 'off'] as const) {
    for (const stat of ['p50', 'p99', 'max'] as const) {
      console.log(`${`${dir.toUpperCase()} ${stat} ms`.padEnd(24)} ${off[dir][stat].toFixed(1).padStart(14)} ${on[dir][stat].toFixed(1).padStart(22)}`);
    }
  }
  console.log(`${'missed writes'.padEnd(24)} ${String(off.on.missing + off.off.missing).padStart(14)} ${String(on.on.missing + on.off.missing).padStart(22)}`);
  console.log(`${'event-loop lag p99/max'.padEnd(24)} ${`${off.lagP99Ms.toFixed(1)}/${off.lagMaxMs.toFixed(1)}`.padStart(14)} ${`${on.lagP99Ms.toFixed(1)}/${on.lagMaxMs.toFixed(1)}`.padStart(22)}`);
  console.log(`${'bus transaction ms'.padEnd(24)} ${off.transactionMs.toFixed(1).padStart(14)} ${on.transactionMs.toFixed(1).padStart(22)}`);
  console.log(`data changes delivered to the clients: ${notifications}; line ${LINE.baud} baud`);
  console.log('command: npm run bench:opcua');
  if (args.json) {
    const medians = (list: OpcuaAgentChildReady[]) => ({
      rssMb: med(list, (r) => r.rssBytes) / MiB,
      heapUsedMb: med(list, (r) => r.heapUsedBytes) / MiB,
      firstReadingMs: med(list, (r) => r.firstReadingMs),
      readyMs: med(list, (r) => r.readyMs),
    });
    const safety = results.map((r) => ({ scenario: r.scenario, on: r.on, off: r.off, lagP99Ms: r.lagP99Ms, transactionMs: r.transactionMs }));
    writeFileSync(args.json, JSON.stringify({ runs: RUNS, clients: CLIENTS, startup: { off: medians(startup.off), on: medians(startup.on) }, safety, notifications }, null, 2));
  }
}

await main();
