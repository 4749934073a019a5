/**
 * bench:budget — what the agent costs on a 50-channel site at 1 Hz, everything on but OPC UA.
 *
 * The site: nine 10-register gas modules × 5 channels (concentration with alarm levels, temperature, humidity,
 * both module setpoints) and an 8-channel relay board × 5 channels (fan and siren driven by the alarm rules,
 * their feedback inputs, the healthy relay), all polled every second over one RS-485 line: a socat pty pair, the
 * agent's serialport on one end and a simulator in its own process on the other (wire-timed 9600 8N1, 5 ms
 * turnaround); `--transport tcp` puts raw RTU over TCP (a device server) in its place. The agent is the real thing, `node
 * dist/agent/cli/main.js run`, with the native uplink to Mosquitto, the outbox and the local API.
 *
 * Measured from outside the agent, every --sample seconds: RSS (VmRSS of /proc/<pid>/status) and CPU time
 * (utime + stime of /proc/<pid>/stat, all threads). The least-squares slope of RSS in MiB/h over the second half
 * of the run, and CPU as % of one core after the warm-up. Start to first poll: from spawn() to the simulator seeing the first valid request,
 * so it does not depend on anything the agent says about itself. RSS is also split into anonymous and
 * file-backed pages (RssAnon, RssFile), and the main thread's heap is read from the agent's own local API
 * (GET /v1/status, agent.memory) every 30 s: together they say whether growth is the heap, native memory or
 * the binary's pages being touched.
 *
 * Two variants: the broker up, then unreachable (a TEST-NET address that never answers).
 *
 * Usage: npm run bench:budget [-- --transport serial|tcp --minutes 3 --unreachable-minutes 3 --sample 5 --json FILE --node-flags="..."]
 *        (--node-flags replaces the unit's Node flags, to weigh another set side by side)
 *        (the one-hour run: -- --minutes 60)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { startBroker } from '../support/broker.js';
import { startPtyPair } from '../support/pty-pair.js';
import { ApiClient } from '../../agent/api/index.js';
import { serviceNodeFlags } from './support/service-flags.js';
import type { SiteSimChildOptions } from './site-sim-child.js';

export interface BudgetVariant {
  name: string;
  brokerUrl: string;
  seconds: number;
  startToFirstPollMs: number;
  rssMaxMb: number;
  rssLastMb: number;
  rssSlopeMbPerHour: number;
  cpuPercent: number;
  /** The main thread's share of cpuPercent (the rest: the outbox writer thread, GC helpers, libuv's pool). */
  mainThreadCpuPercent: number;
  requestsPerSec: number;
  readingsReceived: number | null;
  samples: Array<{ t: number; rssMb: number; rssAnonMb: number; rssFileMb: number; cpuSec: number; mainThreadCpuSec: number }>;
  /** RSS split over the second half, MiB/h: anonymous (heaps, malloc, stacks) and file-backed (the node binary, libraries). */
  rssAnonSlopeMbPerHour: number;
  rssFileSlopeMbPerHour: number;
  /** The main thread's V8 heap, read from the agent's local API every HEAP_SAMPLE_SEC (agent.memory). */
  heapSamples: Array<{ t: number; usedMb: number; totalMb: number; externalMb: number }>;
  heapUsedMaxMb: number;
  heapTotalMaxMb: number;
  /** Over the second half, MiB/h. */
  heapUsedSlopeMbPerHour: number;
  exitCode: number | null;
}

export interface BudgetReport {
  channels: number;
  devices: number;
  profile: string;
  minutes: number;
  sampleEverySec: number;
  warmupSec: number;
  targets: { rssMb: number; cpuPercent: number; firstPollMs: number; slopeMbPerHour: number };
  /** How the field bus reached the simulator. */
  transport: 'serial' | 'tcp';
  /** The RSS target in MiB, which the measured figures are in. */
  rssTargetMiB: number;
  /** The Node flags the agent ran with. */
  nodeFlags: string[];
  /** Whether they were the service's own (systemd/vigil.service). */
  asDeployed: boolean;
  variants: BudgetVariant[];
}

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    'unreachable-minutes': { type: 'string' },
    sample: { type: 'string', default: '5' },
    json: { type: 'string' },
    'node-flags': { type: 'string' },
    transport: { type: 'string', default: 'serial' },
  },
});
const MINUTES = Number(args.minutes);
const UNREACHABLE_MINUTES = args['unreachable-minutes'] !== undefined ? Number(args['unreachable-minutes']) : Math.min(MINUTES, 3);
const SAMPLE_SEC = Number(args.sample);
/** The heap is asked of the agent itself, which costs it a little CPU: less often than /proc is read. */
const HEAP_SAMPLE_SEC = 30;
/** "No growth" within measurement noise: at most 1 MiB over an hour. */
const TARGETS = { rssMb: 80, cpuPercent: 2, firstPollMs: 2000, slopeMbPerHour: 1 };
/** RSS is sampled in MiB (VmRSS is in KiB); the target is 80 MB = 76.3 MiB. */
const RSS_TARGET_MIB = (TARGETS.rssMb * 1e6) / 1024 / 1024;
/** Never answers: TEST-NET-1 (RFC 5737). */
const UNREACHABLE = 'mqtt://192.0.2.1:1883';
const GAS_MODULES = 9;
const LINE = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;
const SITE_ID = 'budget';
const GATEWAY = 'gw-budget';
/** The service's Node flags (systemd/vigil.service), unless --node-flags= names another set to weigh against them. */
const NODE_FLAGS: string[] = args['node-flags'] !== undefined ? args['node-flags'].split(/\s+/).filter(Boolean) : serviceNodeFlags();
const AS_DEPLOYED = args['node-flags'] === undefined;
/** serial: a socat pty pair, serialport on the agent's side, as on a gateway; tcp: raw RTU over TCP (a device server). */
const TRANSPORT = args.transport === 'tcp' ? 'tcp' : 'serial';
if (args.transport !== 'tcp' && args.transport !== 'serial') {
  console.error('bench:budget: --transport must be serial or tcp');
  process.exit(2);
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
/** The compiled CLI beside this compiled bench (dist/agent/cli/main.js). */
const CLI = fileURLToPath(new URL('../../agent/cli/main.js', import.meta.url));
const SIM_CHILD = fileURLToPath(new URL('./site-sim-child.js', import.meta.url));

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const wallNow = (): number => performance.timeOrigin + performance.now();

// ————— the site —————

function simOptions(): SiteSimChildOptions {
  const devices: SiteSimChildOptions['devices'] = [];
  for (let i = 0; i < GAS_MODULES; i++) {
    devices.push({
      unit: i + 1,
      profile: 'gas-module-10reg',
      values: {
        unit_code: { constant: 0x2400 }, // %LEL, one decimal
        // Every value moves every second, so every reading passes the deadband: the recorder's worst case.
        concentration: { noise: { base: 4 + i, amplitude: 1.5, seed: i + 1 } },
        temperature: { noise: { base: 18, amplitude: 0.5, seed: 100 + i } },
        humidity: { noise: { base: 70, amplitude: 3, seed: 200 + i } },
        low_setpoint: { constant: 20 },
        high_setpoint: { constant: 50 },
      },
    });
  }
  devices.push({ unit: 10, profile: 'relay-board-8ch' });
  return { devices, wireTiming: { line: LINE, turnaroundMs: 5 } };
}

function siteDocument(bus: { port: number } | { path: string }): { doc: unknown; channels: number } {
  const gas = Array.from({ length: GAS_MODULES }, (_, i) => {
    const id = `probe${i + 1}`;
    return {
      id,
      bus: 'rs485',
      unit: i + 1,
      profile: 'gas-module-10reg',
      priority: 'critical',
      interval: '1s',
      channels: [
        { id: `${id}.ch4`, register: 'concentration', range: { min: 0, max: 100 }, alarm: { gas: 'ch4' } },
        { id: `${id}.temperature`, register: 'temperature' },
        { id: `${id}.humidity`, register: 'humidity' },
        { id: `${id}.low`, register: 'low_setpoint' },
        { id: `${id}.high`, register: 'high_setpoint' },
      ],
    };
  });
  const relays = {
    id: 'relays',
    bus: 'rs485',
    unit: 10,
    profile: 'relay-board-8ch',
    interval: '1s',
    channels: [
      { id: 'fan', register: 'relay_1' },
      { id: 'siren', register: 'relay_2' },
      { id: 'fan.running', register: 'input_1' },
      { id: 'siren.running', register: 'input_2' },
      { id: 'healthy', register: 'relay_8' },
    ],
  };
  const concentration = gas.map((d) => d.channels[0]!.id);
  const doc = {
    site: { id: SITE_ID, name: 'resource budget' },
    buses: [
      'path' in bus
        ? { id: 'rs485', serial: { path: bus.path, ...LINE }, timeoutMs: 300, retries: 1 }
        : { id: 'rs485', tcp: { host: '127.0.0.1', port: bus.port }, line: LINE, timeoutMs: 300, retries: 1 },
    ],
    devices: [...gas, relays],
    outputs: [
      { id: 'fan-out', kind: 'fan', modbus: { device: 'relays', register: 'relay_1' }, when: { any: [{ alarm: 'L1', channels: concentration }, { fault: true, channels: concentration }] } },
      { id: 'siren-out', kind: 'sounder', modbus: { device: 'relays', register: 'relay_2' }, when: { any: [{ alarm: 'L2', channels: concentration }] } },
      { id: 'healthy-out', kind: 'healthy', modbus: { device: 'relays', register: 'relay_8' } },
    ],
  };
  return { doc, channels: [...gas, relays].reduce((n, d) => n + d.channels.length, 0) };
}

// ————— processes —————

interface SimChild {
  child: ChildProcess;
  port: number;
  firstRequestAt: Promise<number>;
  stats(): Promise<{ requests: number }>;
}

async function startSim(serialPath?: string): Promise<SimChild> {
  const child = spawn(process.execPath, [SIM_CHILD, JSON.stringify({ ...simOptions(), ...(serialPath ? { serialPath } : {}) })], { stdio: ['pipe', 'pipe', 'inherit'] });
  let onPort!: (port: number) => void;
  let onFirst!: (at: number) => void;
  const statsWaiters: Array<(s: { requests: number }) => void> = [];
  const port = new Promise<number>((resolve, reject) => {
    onPort = resolve;
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const firstRequestAt = new Promise<number>((resolve) => (onFirst = resolve));
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const msg = JSON.parse(line) as { port?: number; firstRequestAt?: number; stats?: { requests: number } };
      if (msg.port !== undefined) onPort(msg.port);
      if (msg.firstRequestAt !== undefined) onFirst(msg.firstRequestAt);
      if (msg.stats) statsWaiters.shift()?.(msg.stats);
    }
  });
  return {
    child,
    port: await port,
    firstRequestAt,
    stats: () =>
      new Promise((resolve) => {
        statsWaiters.push(resolve);
        child.stdin!.write('stats\n');
      }),
  };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(hard);
  return code;
}

/** RSS in MiB and CPU seconds (user + system, all threads) of a live process, from /proc. */
function cpuTicks(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** RSS (and its anonymous and file-backed parts), CPU of the whole process (all threads), and of its main thread alone (the event loop). */
function sampleProc(pid: number): { rssMb: number; rssAnonMb: number; rssFileMb: number; cpuSec: number; mainThreadCpuSec: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
  return {
    rssMb: kb('VmRSS') / 1024,
    rssAnonMb: kb('RssAnon') / 1024,
    rssFileMb: kb('RssFile') / 1024,
    cpuSec: cpuTicks(`/proc/${pid}/stat`) / CLK_TCK,
    mainThreadCpuSec: cpuTicks(`/proc/${pid}/task/${pid}/stat`) / CLK_TCK,
  };
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

async function runVariant(name: string, brokerUrl: string, minutes: number, subscribeUrl: string | null): Promise<BudgetVariant> {
  const work = mkdtempSync(join(tmpdir(), 'vigil-bench-budget-'));
  const pty = TRANSPORT === 'serial' ? await startPtyPair() : null;
  const sim = await startSim(pty?.a);
  const { doc } = siteDocument(pty ? { path: pty.b } : { port: sim.port });
  const siteFile = join(work, 'site.yaml');
  writeFileSync(siteFile, JSON.stringify(doc, null, 2)); // JSON is YAML

  let readingsReceived: number | null = null;
  let subscriber: mqtt.MqttClient | undefined;
  if (subscribeUrl) {
    readingsReceived = 0;
    subscriber = mqtt.connect(subscribeUrl, { protocolVersion: 5, clean: true });
    subscriber.on('error', () => {});
    subscriber.on('message', (topic, payload) => {
      if (!topic.endsWith('/telemetry')) return;
      readingsReceived! += ((JSON.parse(payload.toString()) as { readings?: unknown[] }).readings ?? []).length;
    });
    await new Promise<void>((resolve, reject) =>
      subscriber!.once('connect', () => subscriber!.subscribe(`vigil/${SITE_ID}/${GATEWAY}/#`, { qos: 1 }, (e) => (e ? reject(e) : resolve()))),
    );
  }

  const env = { ...process.env, VIGIL_DATA_DIR: join(work, 'data'), VIGIL_MQTT_URL: brokerUrl, VIGIL_MQTT_PROTOCOL: '5', VIGIL_GATEWAY_ID: GATEWAY };
  let output = '';
  const spawnedAt = wallNow();
  // As the service runs it (systemd/vigil.service ExecStart).
  const agent = spawn(process.execPath, [...NODE_FLAGS, CLI, 'run', '--config', siteFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-4000));
  agent.stdout!.on('data', keep);
  agent.stderr!.on('data', keep);
  const exitedEarly = new Promise<never>((_, reject) => agent.once('exit', (code) => reject(new Error(`agent exited with ${code}: ${output}`))));
  const firstRequestAt = await Promise.race([sim.firstRequestAt, exitedEarly]);
  const startToFirstPollMs = firstRequestAt - spawnedAt;
  console.log(`  ${name}: first poll ${startToFirstPollMs.toFixed(0)} ms after spawn`);

  const samples: BudgetVariant['samples'] = [];
  const heapSamples: BudgetVariant['heapSamples'] = [];
  const api = new ApiClient(join(work, 'data', 'vigil.sock'), 5000);
  let nextHeapAt = 0;
  const started = wallNow();
  const endAt = started + minutes * 60_000;
  let requestsAtWarmup = 0;
  let warmupAt = 0;
  const warmupSec = Math.min(30, (minutes * 60) / 4);
  let nextLog = started + 60_000;
  while (wallNow() < endAt) {
    const s = sampleProc(agent.pid!);
    const t = (wallNow() - started) / 1000;
    samples.push({ t, ...s });
    if (wallNow() >= nextHeapAt) {
      nextHeapAt = wallNow() + HEAP_SAMPLE_SEC * 1000;
      const memory = await api.status().then((status) => status.agent.memory, () => undefined);
      if (memory) heapSamples.push({ t, usedMb: memory.heapUsedBytes / MiB, totalMb: memory.heapTotalBytes / MiB, externalMb: memory.externalBytes / MiB });
    }
    if (warmupAt === 0 && t >= warmupSec) {
      warmupAt = t;
      requestsAtWarmup = (await sim.stats()).requests;
    }
    if (wallNow() >= nextLog) {
      const h = heapSamples[heapSamples.length - 1];
      console.log(
        `  ${name}: ${(t / 60).toFixed(0)} min, RSS ${s.rssMb.toFixed(1)} MiB (anon ${s.rssAnonMb.toFixed(1)}, file ${s.rssFileMb.toFixed(1)}), ` +
          `heap ${h ? `${h.usedMb.toFixed(1)}/${h.totalMb.toFixed(1)}` : '?'} MiB, CPU ${s.cpuSec.toFixed(1)} s`,
      );
      nextLog += 60_000;
    }
    await Promise.race([sleep(Math.min(SAMPLE_SEC * 1000, Math.max(0, endAt - wallNow()))), exitedEarly]);
  }
  const last = sampleProc(agent.pid!);
  const tEnd = (wallNow() - started) / 1000;
  samples.push({ t: tEnd, ...last });
  const requestsEnd = (await sim.stats()).requests;
  exitedEarly.catch(() => {});
  agent.removeAllListeners('exit');
  const exitCode = await stopChild(agent);
  subscriber?.end(true);
  await stopChild(sim.child);
  await pty?.stop();
  rmSync(work, { recursive: true, force: true });

  const steady = samples.filter((s) => s.t >= warmupAt);
  const first = steady[0]!;
  const secondHalf = steady.filter((s) => s.t >= tEnd / 2);
  const halfSlope = (pick: (s: BudgetVariant['samples'][number]) => number): number => slope(secondHalf.map((s) => [s.t / 3600, pick(s)] as const));
  return {
    name,
    brokerUrl,
    seconds: tEnd,
    startToFirstPollMs,
    rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
    rssLastMb: last.rssMb,
    // Over the second half: the heap takes minutes to settle (measured: RSS rises for ~12 min, then is flat).
    rssSlopeMbPerHour: halfSlope((s) => s.rssMb),
    rssAnonSlopeMbPerHour: halfSlope((s) => s.rssAnonMb),
    rssFileSlopeMbPerHour: halfSlope((s) => s.rssFileMb),
    heapSamples,
    heapUsedMaxMb: Math.max(...heapSamples.map((h) => h.usedMb)),
    heapTotalMaxMb: Math.max(...heapSamples.map((h) => h.totalMb)),
    heapUsedSlopeMbPerHour: slope(heapSamples.filter((h) => h.t >= tEnd / 2).map((h) => [h.t / 3600, h.usedMb] as const)),
    cpuPercent: ((last.cpuSec - first.cpuSec) / (tEnd - first.t)) * 100,
    mainThreadCpuPercent: ((last.mainThreadCpuSec - first.mainThreadCpuSec) / (tEnd - first.t)) * 100,
    requestsPerSec: (requestsEnd - requestsAtWarmup) / (tEnd - warmupAt),
    readingsReceived,
    samples,
    exitCode,
  };
}

async function main(): Promise<void> {
  const broker = await startBroker({ kind: 'mosquitto' });
  const variants: BudgetVariant[] = [];
  try {
    console.log(`bench:budget — ${siteDocument({ port: 0 }).channels} channels at 1 Hz; broker up ${MINUTES} min, then unreachable ${UNREACHABLE_MINUTES} min`);
    variants.push(await runVariant('broker up', broker.url, MINUTES, broker.url));
    if (UNREACHABLE_MINUTES > 0) variants.push(await runVariant('broker unreachable', UNREACHABLE, UNREACHABLE_MINUTES, null));
  } finally {
    await broker.close();
  }
  const report: BudgetReport = {
    channels: siteDocument({ port: 0 }).channels,
    devices: GAS_MODULES + 1,
    profile: `${GAS_MODULES} × gas-module-10reg, 1 × relay-board-8ch`,
    minutes: MINUTES,
    sampleEverySec: SAMPLE_SEC,
    warmupSec: Math.min(30, (MINUTES * 60) / 4),
    targets: TARGETS,
    rssTargetMiB: RSS_TARGET_MIB,
    transport: TRANSPORT,
    nodeFlags: NODE_FLAGS,
    asDeployed: AS_DEPLOYED,
    variants,
  };
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  console.log(`\nbench:budget — npm run bench:budget${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`);
  console.log(`${'variant'.padEnd(20)} ${'first poll'.padStart(10)} ${'RSS max'.padStart(8)} ${'RSS slope'.padStart(11)} ${'CPU'.padStart(6)} ${'req/s'.padStart(6)} ${'readings at broker'.padStart(18)}`);
  for (const v of variants) {
    console.log(
      `${v.name.padEnd(20)} ${`${f(v.startToFirstPollMs, 0)} ms`.padStart(10)} ${`${f(v.rssMaxMb)} MiB`.padStart(8)} ${`${f(v.rssSlopeMbPerHour, 2)} MiB/h`.padStart(11)} ` +
        `${`${f(v.cpuPercent, 2)} %`.padStart(6)} (main thread ${f(v.mainThreadCpuPercent, 2)} %) ${f(v.requestsPerSec).padStart(6)} ${String(v.readingsReceived ?? '—').padStart(18)}`,
    );
  }
  for (const v of variants) {
    console.log(
      `${v.name.padEnd(20)} RSS slope split: anon ${f(v.rssAnonSlopeMbPerHour, 2)}, file ${f(v.rssFileSlopeMbPerHour, 2)} MiB/h; ` +
        `heap used max ${f(v.heapUsedMaxMb)} of ${f(v.heapTotalMaxMb)} MiB, slope ${f(v.heapUsedSlopeMbPerHour, 2)} MiB/h (${v.heapSamples.length} samples)`,
    );
  }
  console.log(`agent started ${AS_DEPLOYED ? 'as the service starts it' : 'with --node-flags'}: node ${NODE_FLAGS.join(' ')} dist/agent/cli/main.js run`);
  console.log(`targets: RSS ≤ ${TARGETS.rssMb} MB (${RSS_TARGET_MIB.toFixed(1)} MiB), no growth (judge on -- --minutes 60), CPU ≤ ${TARGETS.cpuPercent} % of one core, start → first poll ≤ ${TARGETS.firstPollMs} ms`);
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
  if (variants.some((v) => v.exitCode !== 0)) {
    console.error(`an agent did not stop cleanly: ${variants.map((v) => `${v.name} exit ${v.exitCode}`).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
