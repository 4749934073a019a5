/**
 * The scenario of bench:safety, shared with bench:opcua: a simulator in a child process (wire-timed 9600 8N1
 * line, 5 ms turnaround) with eight gas probes and a relay board, the agent in this process with every probe
 * polled back-to-back, and probe 1 flipped across the L1 setpoint; per crossing, the time from the probe read
 * that crossed to the relay write leaving on the wire. See test/bench/safety.ts for what is measured and why.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Settings } from '../../../config/index.js';
import { site as siteSchema, type SiteInput } from '../../../config/schema/index.js';
import type { Profile } from '../../../config/schema/profile.js';
import type { BusTraceEvent } from '../../../agent/bus/index.js';
import { silentLogger } from '../../../agent/log/index.js';
import { startAgent, type RunningAgent } from '../../../agent/main/index.js';
import { stateFile } from '../../../agent/state/index.js';
import type { LineSettings } from '../../../drivers/modbus/rtu.js';
import type { SafetySimOptions } from '../safety-sim-child.js';
import { startChildSimulator } from './child-simulator.js';

/** ON + OFF crossing pairs run first and not counted: the JIT warms up, as on a gateway that has run a while. */
export const WARMUP = 10;

export const LINE: LineSettings = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 };
export const TURNAROUND_MS = 5;
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

export interface Scenario {
  name: string;
  commitDelayMs: number;
  /** ON crossings counted (as many OFF crossings come with them). */
  crossings: number;
  /** Machine settings for the agent (e.g. with OPC UA on); none: no outbox, no uplink, no OPC UA. */
  settings?: Settings;
  /** Runs once the agent has settled, before the first crossing; what it returns runs before the agent stops. */
  attach?: (agent: RunningAgent) => Promise<() => Promise<void>>;
}

export type Direction = 'on' | 'off';

interface Crossing {
  direction: Direction;
  counted: boolean;
  /** 'completed' of the probe-1 read whose reading crossed. */
  completedTs: number;
}

export interface DirectionStats {
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

export interface Result {
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

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
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
  return startChildSimulator(fileURLToPath(new URL('../safety-sim-child.js', import.meta.url)), options);
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

export async function runScenario(scenario: Scenario, profiles: ReadonlyMap<string, Profile>): Promise<Result> {
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
    ...(scenario.settings ? { settings: scenario.settings } : {}),
    busTrace: (_busId, event) => {
      trace.push(event);
      if (event.kind === 'completed' && event.deviceId === PROBE) lastProbeCompleted = event.monoTs;
    },
  });

  // Settle: the probe has spoken, the fan (on at start, fail-safe) is off again, the store has committed.
  await until(() => agent.alarms.channel(CHANNEL)?.value === LOW, 'the first probe reading');
  await until(() => agent.outputs.status('fan')?.commanded === false, 'the fan to stop after start-up');
  await sleep(1500);
  const detach = scenario.attach ? await scenario.attach(agent) : undefined;

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
      if (crossings.filter((c) => c.direction === 'off').length >= scenario.crossings + WARMUP) {
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
  await detach?.();
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
