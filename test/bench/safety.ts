/**
 * bench:safety — from the Modbus response that crosses a gas setpoint to the relay write leaving on the wire
 * (issue 3, "Timing").
 *
 * A simulator in a child process (wire-timed 9600 8N1 line, 5 ms turnaround) carries eight gas probes and a relay
 * board; the agent runs in this process with all probes polled back-to-back, so the bus is always busy. The bench
 * flips probe 1 between a low and a high concentration (a line on the child's stdin) and, per crossing, measures
 *   latency = (trace 'sent' of the FC05 write to the relay board) − (trace 'completed' of the probe-1 read whose
 *   reading crossed the setpoint),
 * with the store normal, and with every state commit taking 500 ms longer. Target: p99 ≤ one bus transaction
 * (median probe read, 'sent' → 'completed') + 5 ms, in both scenarios.
 *
 * Usage: npm run bench:safety [-- --crossings 120 --json FILE]
 */
import type { ChildProcess } from 'node:child_process';
import { startChildSimulator } from './support/child-simulator.js';
import { mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadProfiles, shippedProfileDir } from '../../config/load/index.js';
import { site as siteSchema, type SiteInput } from '../../config/schema/index.js';
import type { Profile } from '../../config/schema/profile.js';
import type { BusTraceEvent } from '../../agent/bus/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { stateFile } from '../../agent/state/index.js';
import { t35Ms, type LineSettings } from '../../drivers/modbus/rtu.js';
import type { SafetySimOptions } from './safety-sim-child.js';

const { values: args } = parseArgs({
  options: { crossings: { type: 'string', default: '120' }, json: { type: 'string' } },
});
/** ON crossings per scenario (as many OFF crossings come with them). */
const CROSSINGS = Number(args.crossings);
/** ON + OFF crossing pairs run first and not counted: the JIT warms up, as on a gateway that has run a while. */
const WARMUP = 10;

const LINE: LineSettings = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 };
const TURNAROUND_MS = 5;
const CROSSING_UNIT = 1;
const OTHER_UNITS = [2, 3, 4, 5, 6, 7, 8];
const RELAY_UNIT = 10;
const LOW = 5;
const HIGH = 40;
const L1 = 20;
/** L1 clears below setpoint − deadband (default deadband 20 % of the setpoint). */
const L1_CLEAR = L1 * 0.8;
const PROBE = 'probe1';
const CHANNEL = 'tank.ch4';
const RELAYS = 'relays';
/** A random pause before each flip, so crossings fall at every phase of the store's commit cycle. */
const MAX_PAUSE_MS = 150;
const STALL_MS = 5000;

interface Scenario {
  name: string;
  commitDelayMs: number;
}

type Direction = 'on' | 'off';

interface Crossing {
  direction: Direction;
  counted: boolean;
  /** 'completed' of the probe-1 read whose reading crossed. */
  completedTs: number;
}

interface DirectionStats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** Crossings with no FC05 write before the next crossing. */
  missing: number;
  /** Every latency, in crossing order (for --json). */
  all: number[];
  /** Crossings where another request went on the wire between the crossing read and the relay write. */
  overtaken: number;
}

interface Result {
  scenario: string;
  commitDelayMs: number;
  on: DirectionStats;
  off: DirectionStats;
  transactionMs: number;
  /** Median silence between one transaction's end and the next request (the line is saturated when ≈ t3.5 + request gap). */
  gapMs: number;
  writesOk: number;
  writesFailed: number;
  busBusy: number;
  commits: number;
  lagP99Ms: number;
  lagMaxMs: number;
  seconds: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`bench:safety: timed out waiting for ${what}`);
    await sleep(20);
  }
}

function startSimChild(options: SafetySimOptions): Promise<{ child: ChildProcess; port: number }> {
  return startChildSimulator(fileURLToPath(new URL('./safety-sim-child.js', import.meta.url)), options);
}

function benchSite(port: number): SiteInput {
  const probe = (unit: number, channelId: string, priority: 'critical' | 'normal') => ({
    id: `probe${unit}`,
    bus: 'rs485',
    unit,
    profile: 'gas-module-10reg',
    priority,
    interval: '50ms',
    breaker: { failures: 100 },
    channels: [
      {
        id: channelId,
        register: 'concentration',
        range: { min: 0, max: 100 },
        // One sample: the bench measures the machine, not the configured delay.
        alarm: { gas: 'ch4' as const, L1: { delayOn: { samples: 1 } }, L2: { delayOn: { samples: 1 } } },
      },
    ],
  });
  return {
    site: { id: 'bench-safety', name: 'bench:safety tank' },
    buses: [{ id: 'rs485', tcp: { host: '127.0.0.1', port }, line: LINE, timeoutMs: 200, retries: 1 }],
    devices: [
      // The probe that drives the fan is critical; the others keep the line busy between its polls.
      probe(CROSSING_UNIT, CHANNEL, 'critical'),
      ...OTHER_UNITS.map((unit) => probe(unit, `tank${unit}.ch4`, 'normal')),
      { id: RELAYS, bus: 'rs485', unit: RELAY_UNIT, profile: 'relay-board-8ch', interval: '1s', priority: 'low', channels: [{ id: 'tank.fan', register: 'relay_1' }] },
    ],
    outputs: [
      {
        id: 'fan',
        kind: 'fan',
        modbus: { device: RELAYS, register: 'relay_1' },
        when: { any: [{ alarm: 'L1', channels: [CHANNEL] }, { fault: true, channels: [CHANNEL] }] },
        // Every crossing commands a write.
        minOn: '0s',
        minOff: '0s',
      },
    ],
  };
}

function directionStats(latencies: number[], missing: number, overtaken: number): DirectionStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { all: latencies, n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN, missing, overtaken };
}

async function runScenario(scenario: Scenario, profiles: ReadonlyMap<string, Profile>): Promise<Result> {
  const { child, port } = await startSimChild({
    line: LINE,
    turnaroundMs: TURNAROUND_MS,
    crossingUnit: CROSSING_UNIT,
    otherUnits: OTHER_UNITS,
    relayUnit: RELAY_UNIT,
    low: LOW,
    high: HIGH,
  });
  const command = (line: 'high' | 'low') => child.stdin!.write(line + '\n');
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-safety-'));
  const stateName = basename(stateFile(dataDir));
  let commits = 0;
  const watcher = watch(dataDir, (kind, name) => {
    // The store writes a temp file and renames it over the state file: one rename onto it per commit.
    if (kind === 'rename' && name === stateName) commits++;
  });

  const trace: BusTraceEvent[] = [];
  let lastProbeCompleted = NaN;
  const agent: RunningAgent = await startAgent({
    site: siteSchema.parse(benchSite(port)),
    profiles,
    logger: silentLogger(),
    dataDir,
    stateCommitDelayMs: scenario.commitDelayMs,
    busTrace: (_busId, event) => {
      trace.push(event);
      if (event.kind === 'completed' && event.deviceId === PROBE) lastProbeCompleted = event.monoTs;
    },
  });

  // Settle: the probe has spoken, the fan (on at start, fail-safe) is off again, the store has committed.
  await until(() => agent.alarms.channel(CHANNEL)?.value === LOW, 'the first probe reading');
  await until(() => agent.outputs.status('fan')?.commanded === false, 'the fan to stop after start-up');
  await sleep(1500);

  const crossings: Crossing[] = [];
  // Event-loop lag of this process (timer-sampled, 1 ms resolution): the host's share of any outlier.
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  let expecting: Direction = 'on';
  let lastCrossingAt = performance.now();
  let finished = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const unsubscribe = agent.stream.subscribe((readings) => {
    if (finished) return;
    for (const reading of readings) {
      if (reading.channelId !== CHANNEL || reading.quality !== 'good' || reading.value === null) continue;
      const crossed = expecting === 'on' ? reading.value >= L1 : reading.value < L1_CLEAR;
      if (!crossed) continue;
      const offs = crossings.filter((c) => c.direction === 'off').length;
      crossings.push({ direction: expecting, counted: offs >= WARMUP, completedTs: lastProbeCompleted });
      lastCrossingAt = performance.now();
      if (crossings.length === 2 * WARMUP + 1) {
        started = lastProbeCompleted;
        commitsBefore = commits;
        lag.reset();
      }
      expecting = expecting === 'on' ? 'off' : 'on';
      if (crossings.filter((c) => c.direction === 'off').length >= CROSSINGS + WARMUP) {
        finished = true;
        resolveDone();
        return;
      }
      const next = expecting === 'on' ? 'high' : 'low';
      setTimeout(() => command(next), Math.random() * MAX_PAUSE_MS);
    }
  });

  let started = performance.now();
  let commitsBefore = commits;
  command('high');
  let stalls = 0;
  while (!finished) {
    await Promise.race([done, sleep(500)]);
    if (!finished && performance.now() - lastCrossingAt > STALL_MS) {
      if (++stalls > 3) throw new Error(`bench:safety: ${scenario.name}: no crossing for ${STALL_MS} ms, ${stalls} times`);
      command(expecting === 'on' ? 'high' : 'low');
      lastCrossingAt = performance.now();
    }
  }
  const ended = performance.now();
  lag.disable();
  const lagP99Ms = lag.percentile(99) / 1e6;
  const lagMaxMs = lag.max / 1e6;
  const seconds = (ended - started) / 1000;
  const scenarioCommits = commits - commitsBefore;
  unsubscribe();
  // The last write is still to leave: let it, then stop.
  await sleep(300);
  await agent.stop();
  watcher.close();
  child.stdin!.end();
  child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });

  // Each crossing → the first FC05 'sent' to the relay board after its read completed, before the next crossing.
  const latencies: Record<Direction, number[]> = { on: [], off: [] };
  const missing: Record<Direction, number> = { on: 0, off: 0 };
  const overtaken: Record<Direction, number> = { on: 0, off: 0 };
  crossings.forEach((crossing, i) => {
    const nextTs = crossings[i + 1]?.completedTs ?? Infinity;
    if (!crossing.counted) return;
    const after = trace.filter((e) => e.kind === 'sent' && e.monoTs >= crossing.completedTs && e.monoTs < nextTs);
    const writeIndex = after.findIndex((e) => e.deviceId === RELAYS && e.fn === 5);
    if (writeIndex < 0) {
      missing[crossing.direction]++;
      return;
    }
    if (writeIndex > 0) overtaken[crossing.direction]++;
    latencies[crossing.direction].push(after[writeIndex]!.monoTs - crossing.completedTs);
  });

  // One bus transaction: a probe read, request on the wire → response judged. Busy: the line carrying a
  // transaction, as a share of the measured window.
  const transactions: number[] = [];
  const gaps: number[] = [];
  let busyMs = 0;
  let lastCompleted: number | undefined;
  let sent: BusTraceEvent | undefined;
  for (const event of trace) {
    if (event.kind === 'sent') {
      if (lastCompleted !== undefined && event.monoTs >= started && event.monoTs <= ended) gaps.push(event.monoTs - lastCompleted);
      sent = event;
      continue;
    }
    lastCompleted = event.monoTs;
    if (sent && event.deviceId === sent.deviceId && event.fn === sent.fn) {
      if (sent.monoTs >= started && event.monoTs <= ended) busyMs += event.monoTs - sent.monoTs;
      if (event.fn === 3 && event.deviceId.startsWith('probe')) transactions.push(event.monoTs - sent.monoTs);
    }
    sent = undefined;
  }
  const writes = trace.filter((e) => e.kind === 'completed' && e.deviceId === RELAYS && e.fn === 5);

  return {
    scenario: scenario.name,
    commitDelayMs: scenario.commitDelayMs,
    on: directionStats(latencies.on, missing.on, overtaken.on),
    off: directionStats(latencies.off, missing.off, overtaken.off),
    transactionMs: median(transactions),
    gapMs: median(gaps),
    writesOk: writes.filter((e) => e.ok).length,
    writesFailed: writes.filter((e) => !e.ok).length,
    busBusy: busyMs / (ended - started),
    commits: scenarioCommits,
    lagP99Ms,
    lagMaxMs,
    seconds,
  };
}

const fmt = (ms: number) => ms.toFixed(1).padStart(7);

async function main(): Promise<void> {
  const { profiles: loaded, errors } = loadProfiles([shippedProfileDir()]);
  if (errors.length > 0) throw new Error(`profiles: ${errors.map((e) => e.message).join('; ')}`);
  const profiles = new Map([...loaded].map(([id, { profile }]) => [id, profile]));

  const scenarios: Scenario[] = [
    { name: '(a) bus busy, normal store', commitDelayMs: 0 },
    { name: '(b) bus busy, commit +500 ms', commitDelayMs: 500 },
  ];
  const loadBefore = loadavg()[0]!;
  const results: Result[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, profiles));
  const loadAfter = loadavg()[0]!;

  const transactionMs = median(results.map((r) => r.transactionMs));
  const targetMs = transactionMs + 5;
  console.log(
    `bench:safety — 9600 8N1 (t3.5 ${t35Ms(LINE).toFixed(2)} ms), turnaround ${TURNAROUND_MS} ms; 8 gas probes polled every 50 ms + relay board; ` +
      `delayOn 1 sample, minOn/minOff 0; ${CROSSINGS} ON + ${CROSSINGS} OFF crossings per scenario after ${WARMUP} + ${WARMUP} uncounted; ` +
      `host ${cpus().length} CPUs, load avg ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`,
  );
  console.log(
    `${'scenario'.padEnd(30)} ${'dir'.padEnd(3)} ${'n'.padStart(4)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'p99≤tgt'.padStart(7)} ${'missed'.padStart(6)} ` +
      `${'wire busy'.padStart(9)} ${'commits'.padStart(7)} ${'loop lag p99/max ms'.padStart(19)} ${'secs'.padStart(5)}`,
  );
  for (const r of results) {
    for (const dir of ['on', 'off'] as const) {
      const s = r[dir];
      console.log(
        `${(dir === 'on' ? r.scenario : '').padEnd(30)} ${dir.toUpperCase().padEnd(3)} ${String(s.n).padStart(4)} ${fmt(s.p50)} ${fmt(s.p99)} ${fmt(s.max)} ` +
          `${(s.p99 <= targetMs ? 'yes' : 'NO').padStart(7)} ${String(s.missing + s.overtaken).padStart(6)} ` +
          (dir === 'on'
            ? `${(r.busBusy * 100).toFixed(0).padStart(8)}% ${String(r.commits).padStart(7)} ${`${r.lagP99Ms.toFixed(1)} / ${r.lagMaxMs.toFixed(1)}`.padStart(19)} ${r.seconds.toFixed(0).padStart(5)}`
            : ''),
      );
    }
  }
  const [a, b] = results as [Result, Result];
  console.log(
    `one bus transaction (median probe read, sent→completed): ${transactionMs.toFixed(1)} ms → target p99 ≤ ${targetMs.toFixed(1)} ms; ` +
      `p99 (b)/(a): ON ${(b.on.p99 / a.on.p99).toFixed(2)}, OFF ${(b.off.p99 / a.off.p99).toFixed(2)}`,
  );
  console.log(
    `relay writes ${results.map((r) => `${r.writesOk} ok / ${r.writesFailed} failed`).join(', ')}; median silence between transactions ` +
      `${results.map((r) => r.gapMs.toFixed(1)).join(' / ')} ms (t3.5 + 20 ms request gap: the line never idles); missed = no write, or one behind another request`,
  );
  console.log('(c) broker not answering: comes with the uplink (no broker yet)');
  console.log('command: npm run bench:safety');
  if (args.json) writeFileSync(args.json, JSON.stringify({ transactionMs, targetMs, results }, null, 2));
}

await main();
