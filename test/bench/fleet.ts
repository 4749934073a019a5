/**
 * bench:fleet — a fleet of gateways against one Mosquitto that restarts: do they come back in a stampede, and
 * does every backlog drain with nothing lost?
 *
 * --agents gateways (default 200), each an Uplink with its own outbox (own folder and writer thread) fed by a
 * synthetic recorder appending --channels readings per second, hosted --per-process to a child process (so
 * 10 processes by default). One Mosquitto, started here on its own port with connection messages in its log
 * and a persistent session for the counting subscriber (so what the broker accepted while the subscriber was
 * reconnecting still reaches it). After a steady phase, the broker is stopped for --outage seconds while
 * readings keep being appended (a backlog per gateway), then started again. Printed:
 *  - the reconnects per second after the broker came back, as Mosquitto logged them, and the peak;
 *  - the time from the broker's return until every seq appended before it had reached the subscriber;
 *  - appended vs received unique (gateway, seq) after appending stopped: lost and duplicates.
 *
 * Usage: npm run bench:fleet [-- --agents 200 --per-process 20 --channels 3 --outage 10 --json FILE]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { startMosquitto } from './support/mosquitto.js';
import type { FleetChildOptions } from './fleet-child.js';

export interface FleetReport {
  agents: number;
  processes: number;
  channelsPerAgent: number;
  outageSec: number;
  /** Connects the broker logged in each second after it came back (index 0 = the first second). */
  reconnectHistogram: number[];
  reconnectSpreadSec: number;
  peakConnectsPerSec: number;
  reconnected: number;
  drainSec: number;
  appended: number;
  receivedUnique: number;
  lost: number;
  duplicates: number;
}

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '200' },
    'per-process': { type: 'string', default: '20' },
    channels: { type: 'string', default: '3' },
    outage: { type: 'string', default: '10' },
    steady: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const AGENTS = Number(args.agents);
const PER_PROCESS = Number(args['per-process']);
const CHANNELS = Number(args.channels);
const OUTAGE_SEC = Number(args.outage);
const STEADY_SEC = Number(args.steady);
const SITE = 'fleet';
const SUBSCRIBER = 'fleet-platform';
const CHILD = fileURLToPath(new URL('./fleet-child.js', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      console.error(`bench:fleet: ${what}: not within ${timeoutMs / 1000} s`);
      return false;
    }
    await sleep(25);
  }
  return true;
}

/** Connect times (epoch seconds) of clients other than the subscriber, from Mosquitto's log. */
function loggedConnects(logFile: string): number[] {
  const times: number[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const m = /^(\d+): New client connected from \S+ as (\S+)/.exec(line);
    if (m && m[2] !== SUBSCRIBER) times.push(Number(m[1]));
  }
  return times;
}

// ————— the fleet —————

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  request<T>(command: 'mark' | 'stop', key: 'mark' | 'final'): Promise<T>;
}

function startChild(options: FleetChildOptions): Child {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiters = new Map<string, (value: unknown) => void>();
  let onReady!: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    proc.once('exit', (code) => reject(new Error(`fleet child exited with ${code}`)));
  });
  ready.catch(() => {});
  let buffered = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.ready) onReady();
      for (const key of ['mark', 'final']) {
        if (key in msg) {
          waiters.get(key)?.(msg[key]);
          waiters.delete(key);
        }
      }
    }
  });
  return {
    proc,
    ready,
    request: <T>(command: 'mark' | 'stop', key: 'mark' | 'final') =>
      new Promise<T>((resolve) => {
        waiters.set(key, resolve as (value: unknown) => void);
        proc.stdin!.write(`${command}\n`);
      }),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-fleet-'));
  const broker = await startMosquitto(dir);
  const children: Child[] = [];
  let subscriber: mqtt.MqttClient | undefined;
  try {
    // The platform: every (gateway, seq) it receives.
    const received = new Map<string, Set<number>>();
    let duplicates = 0;
    subscriber = mqtt.connect(broker.url, { protocolVersion: 5, clientId: SUBSCRIBER, clean: false, reconnectPeriod: 200, properties: { sessionExpiryInterval: 3600 } });
    subscriber.on('error', () => {});
    subscriber.on('message', (topic, payload) => {
      const gateway = topic.split('/')[2]!;
      let seen = received.get(gateway);
      if (!seen) received.set(gateway, (seen = new Set()));
      for (const r of (JSON.parse(payload.toString()) as { readings: Array<{ seq: number }> }).readings) {
        if (seen.has(r.seq)) duplicates++;
        else seen.add(r.seq);
      }
    });
    await new Promise<void>((resolve, reject) =>
      subscriber!.once('connect', () => subscriber!.subscribe(`vigil/${SITE}/+/telemetry`, { qos: 1 }, (e) => (e ? reject(e) : resolve()))),
    );

    const gateways = Array.from({ length: AGENTS }, (_, i) => `gw-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < gateways.length; i += PER_PROCESS) {
      children.push(startChild({ url: broker.url, siteId: SITE, gateways: gateways.slice(i, i + PER_PROCESS), channels: CHANNELS, dir }));
    }
    console.log(`bench:fleet — ${AGENTS} gateways in ${children.length} processes, ${CHANNELS} readings/s each; waiting for all to connect`);
    await Promise.all(children.map((c) => c.ready));
    console.log(`  all connected; steady for ${STEADY_SEC} s`);
    await sleep(STEADY_SEC * 1000);

    console.log(`  broker stopped for ${OUTAGE_SEC} s`);
    await broker.stop();
    await sleep(OUTAGE_SEC * 1000);
    await broker.start();
    const backAt = Date.now();
    console.log('  broker back');
    const marks = Object.assign({}, ...(await Promise.all(children.map((c) => c.request<Record<string, number>>('mark', 'mark'))))) as Record<string, number>;
    // The backlog is replayed in seq order (docs/platform.md, "Ordering"): the mark's arrival ends it. Losses are
    // counted separately below, over every seq.
    const drainedAll = (): boolean => Object.entries(marks).every(([g, last]) => received.get(g)?.has(last) ?? false);
    const drainedInTime = await until(drainedAll, 180_000, 'every backlog drained');
    const drainSec = (Date.now() - backAt) / 1000;
    console.log(`  backlogs drained ${drainSec.toFixed(1)} s after the broker came back`);

    await sleep(3000);
    const finals = Object.assign({}, ...(await Promise.all(children.map((c) => c.request<Record<string, [number, number]>>('stop', 'final'))))) as Record<string, [number, number]>;
    const complete = (): boolean => Object.entries(finals).every(([g, [, last]]) => received.get(g)?.has(last) ?? last === 0);
    await until(complete, 60_000, 'the last readings received');
    await sleep(1000);

    let appended = 0;
    let receivedUnique = 0;
    let lost = 0;
    for (const [g, [first, last]] of Object.entries(finals)) {
      const seen = received.get(g) ?? new Set<number>();
      appended += last - first + 1;
      for (let s = first; s <= last; s++) {
        if (seen.has(s)) receivedUnique++;
        else lost++;
      }
    }

    const connects = loggedConnects(broker.logFile).filter((t) => t >= Math.floor(backAt / 1000));
    const backSec = Math.floor(backAt / 1000);
    const histogram: number[] = [];
    for (const t of connects) histogram[t - backSec] = (histogram[t - backSec] ?? 0) + 1;
    for (let i = 0; i < histogram.length; i++) histogram[i] ??= 0;
    const report: FleetReport = {
      agents: AGENTS,
      processes: children.length,
      channelsPerAgent: CHANNELS,
      outageSec: OUTAGE_SEC,
      reconnectHistogram: histogram,
      reconnectSpreadSec: connects.length > 0 ? Math.max(...connects) - Math.min(...connects) + 1 : NaN,
      peakConnectsPerSec: Math.max(0, ...histogram),
      reconnected: connects.length,
      drainSec: drainedInTime ? drainSec : NaN,
      appended,
      receivedUnique,
      lost,
      duplicates,
    };
    console.log(`\nbench:fleet — npm run bench:fleet${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`);
    console.log(`reconnects per second after the broker came back (Mosquitto's log): ${histogram.map((n, s) => `${s}s:${n}`).join(' ')}`);
    console.log(`reconnected ${connects.length} of ${AGENTS} gateways over ${report.reconnectSpreadSec} s; peak ${report.peakConnectsPerSec} connects/s`);
    console.log(`every backlog drained ${Number.isFinite(report.drainSec) ? `${report.drainSec.toFixed(1)} s` : 'NOT'} after the broker came back`);
    console.log(`appended ${appended}, received unique ${receivedUnique}, lost ${lost}, duplicates ${duplicates}`);
    if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
    if (lost > 0 || !drainedInTime) process.exitCode = 1;
  } finally {
    await Promise.all(
      children.map(async (c) => {
        if (c.proc.exitCode !== null) return;
        const exited = new Promise((resolve) => c.proc.once('exit', resolve));
        c.proc.stdin!.write('exit\n');
        const hard = setTimeout(() => c.proc.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(hard);
      }),
    );
    subscriber?.end(true);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
