/**
 * bench:drain — how fast the uplink drains a big backlog to a real Mosquitto, and what live data sees meanwhile.
 *
 * Per pass: Mosquitto on a free loopback port; an outbox in a temp dir pre-filled with N telemetry records shaped
 * like the recorder's (one reading each); an Uplink over it (native profile, MQTT 5); a subscriber (mqtt.js, in a
 * worker thread so its parsing does not share the uplink's event loop) counting readings by seq. While the backlog
 * drains, LIVE records are appended at 50/s (a 50-channel 1 Hz site) and each one's append → arrival time is taken.
 *
 * Two passes, side by side: "fast" (replayRecordsPerSecond 100,000, window 64, 500 readings per message) on the
 * full backlog, and "default" (the uplink's default, paced, delivery tuning) on a smaller backlog, so the run
 * stays near two minutes (the default replay rate would need minutes for 1,000,000).
 *
 * Usage: npm run bench:drain [-- --backlog 1000000 --default-backlog 200000 --dir /var/tmp --json FILE]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';
import { createSystemClock } from '../../agent/clock/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { openOutbox, type Outbox } from '../../agent/outbox/index.js';
import { Uplink, nativeTopics, type DeliveryTuning } from '../../agent/uplink/index.js';
import { startBroker } from '../support/broker.js';
import { CHANNELS, reading, yieldToLoop } from './support/telemetry.js';

const MiB = 1024 * 1024;
const SITE = 'bench-site';
const GATEWAY = 'bench-gw';
const now = (): number => performance.timeOrigin + performance.now();

// ————— subscriber (worker thread) —————

interface SubscriberInput {
  url: string;
  topic: string;
  histFrom: number;
  histTo: number;
}

interface SubscriberResult {
  histUnique: number;
  histDuplicates: number;
  histMissing: number;
  liveDuplicates: number;
  firstHist: number;
  lastHist: number;
  readings: number;
  messages: number;
  historicalFlagOnLive: number;
  /** [seq, arrival time] of the first arrival of each live seq. */
  live: Array<[number, number]>;
}

function runSubscriber(input: SubscriberInput): void {
  const port = parentPort!;
  const span = input.histTo - input.histFrom + 1;
  const seen = new Uint8Array(span);
  const liveSeen = new Map<number, number>();
  const r: SubscriberResult = {
    histUnique: 0,
    histDuplicates: 0,
    histMissing: 0,
    liveDuplicates: 0,
    firstHist: 0,
    lastHist: 0,
    readings: 0,
    messages: 0,
    historicalFlagOnLive: 0,
    live: [],
  };
  const client = mqtt.connect(input.url, { protocolVersion: 5, clientId: `bench-sub-${process.pid}`, clean: true });
  client.on('message', (_topic, payload) => {
    const t = now();
    r.messages++;
    const body = JSON.parse(payload.toString()) as { readings: Array<{ seq: number; historical: boolean }> };
    for (const reading of body.readings) {
      r.readings++;
      const seq = reading.seq;
      if (seq >= input.histFrom && seq <= input.histTo) {
        const i = seq - input.histFrom;
        if (seen[i]) r.histDuplicates++;
        else {
          seen[i] = 1;
          r.histUnique++;
          if (r.firstHist === 0) r.firstHist = t;
          r.lastHist = t;
          if (r.histUnique === span) port.postMessage({ type: 'drained' });
        }
      } else if (seq > input.histTo) {
        if (liveSeen.has(seq)) r.liveDuplicates++;
        else liveSeen.set(seq, t);
        if (reading.historical) r.historicalFlagOnLive++;
      }
    }
  });
  client.on('connect', () => {
    client.subscribe(input.topic, { qos: 1 }, (error) => {
      if (error) throw error;
      port.postMessage({ type: 'ready' });
    });
  });
  port.on('message', (msg: { type: string }) => {
    if (msg.type !== 'report') return;
    r.histMissing = span - r.histUnique;
    r.live = [...liveSeen.entries()];
    port.postMessage({ type: 'report', result: r });
    client.end(true, () => port.close());
  });
}

// ————— main —————


interface PassResult {
  name: string;
  tuning: string;
  backlog: number;
  buildSec: number;
  drainSec: number;
  readingsPerSec: number;
  totalSec: number;
  live: { sent: number; received: number; p50: number; p99: number; max: number };
  histDuplicates: number;
  histMissing: number;
  liveDuplicates: number;
  liveMissing: number;
  historicalFlagOnLive: number;
  liveOverflows: number;
  rssMb: number;
  timedOut: boolean;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function runPass(name: string, backlog: number, delivery: DeliveryTuning | undefined, baseDir: string, timeoutMs: number): Promise<PassResult> {
  const broker = await startBroker({ kind: 'mosquitto', receiveMaximum: 1000 });
  const dir = mkdtempSync(join(baseDir, `vigil-bench-drain-${name}-`));
  const clock = createSystemClock({ syncSource: 'assume-synced' });
  const outbox: Outbox = await openOutbox({ dir, maxBytes: 4096 * MiB });
  try {
    // The backlog, as outbox.ts builds it: appends in chunks, yielding to the loop so the writer keeps up.
    const buildStart = performance.now();
    const first = outbox.stats().lastSeq + 1;
    for (let i = 0; i < backlog; ) {
      for (let k = 0; k < 2000 && i < backlog; k++, i++) outbox.append('telemetry', reading(i), clock.stamp());
      await yieldToLoop();
    }
    await outbox.flush();
    const last = outbox.stats().lastSeq;
    const buildSec = (performance.now() - buildStart) / 1000;

    const topic = nativeTopics({ topicPrefix: 'vigil', siteId: SITE, gatewayId: GATEWAY }).telemetry;
    const input: SubscriberInput = { url: broker.url, topic, histFrom: first, histTo: last };
    const worker = new Worker(new URL(import.meta.url), { workerData: input });
    let drained!: () => void;
    const drainedP = new Promise<void>((resolve) => (drained = resolve));
    let reported!: (r: SubscriberResult) => void;
    const reportP = new Promise<SubscriberResult>((resolve) => (reported = resolve));
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (msg: { type: string; result?: SubscriberResult }) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'drained') drained();
        else if (msg.type === 'report') reported(msg.result!);
      });
    });
    await ready;

    let onConnected!: () => void;
    const connected = new Promise<void>((resolve) => (onConnected = resolve));
    const uplink = new Uplink({
      gatewayId: GATEWAY,
      siteId: SITE,
      broker: { url: broker.url, protocolVersion: 5 },
      outbox,
      clock,
      logger: silentLogger(),
      birth: { version: 'bench', configHash: 'bench', channels: [] },
      ...(delivery ? { delivery } : {}),
      trace: (e) => {
        if (e.type === 'connected') onConnected();
      },
    });
    const uplinkStart = performance.now();
    uplink.start();
    await connected;

    // Live data: 50 records/s, one every 20 ms, from the moment the uplink is online until the backlog is drained.
    const liveAppended = new Map<number, number>();
    let liveIndex = 0;
    const liveStart = performance.now();
    const liveTimer = setInterval(() => {
      const due = Math.floor(((performance.now() - liveStart) / 1000) * CHANNELS);
      while (liveIndex < due) {
        const record = outbox.append('telemetry', reading(liveIndex), clock.stamp());
        liveAppended.set(record.seq, now());
        liveIndex++;
      }
    }, 20);

    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drainedP, new Promise<void>((resolve) => (timer = setTimeout(() => ((timedOut = true), resolve()), timeoutMs)))]);
    clearTimeout(timer);
    clearInterval(liveTimer);
    // Let the last live records arrive.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const rssMb = process.memoryUsage().rss / MiB;
    const liveOverflows = uplink.stats().delivered.liveOverflows;
    worker.postMessage({ type: 'report' });
    const sub = await reportP;
    await uplink.stop();
    const totalSec = (performance.now() - uplinkStart) / 1000;

    const latencies: number[] = [];
    const arrivals = new Map(sub.live);
    for (const [seq, appendedAt] of liveAppended) {
      const at = arrivals.get(seq);
      if (at !== undefined) latencies.push(at - appendedAt);
    }
    latencies.sort((a, b) => a - b);
    const drainSec = (sub.lastHist - sub.firstHist) / 1000;
    return {
      name,
      tuning: delivery ? JSON.stringify(delivery) : 'uplink defaults',
      backlog,
      buildSec,
      drainSec,
      readingsPerSec: sub.histUnique / drainSec,
      totalSec,
      live: { sent: liveAppended.size, received: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN },
      histDuplicates: sub.histDuplicates,
      histMissing: sub.histMissing,
      liveDuplicates: sub.liveDuplicates,
      liveMissing: liveAppended.size - latencies.length,
      historicalFlagOnLive: sub.historicalFlagOnLive,
      liveOverflows,
      rssMb,
      timedOut,
    };
  } finally {
    clock.close();
    await outbox.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      backlog: { type: 'string', default: '1000000' },
      'default-backlog': { type: 'string', default: '200000' },
      dir: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const baseDir = args.dir ?? tmpdir();
  const started = performance.now();
  const fast: DeliveryTuning = { replayRecordsPerSecond: 100_000, replayBurst: 2000, window: 64, batchRecords: 500, batchBytes: 256 * 1024 };
  const results = [
    await runPass('fast', Number(args.backlog), fast, baseDir, 90_000),
    await runPass('default', Number(args['default-backlog']), undefined, baseDir, 90_000),
  ];

  console.log('\nbench:drain — npm run bench:drain' + (process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''));
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, Mosquitto on loopback, MQTT 5, native profile; live: ${CHANNELS} records/s\n`);
  const rows: Array<[string, (r: PassResult) => string]> = [
    ['delivery tuning', (r) => r.tuning],
    ['backlog (readings)', (r) => fmt(r.backlog)],
    ['backlog build', (r) => `${fmt(r.buildSec, 1)} s`],
    ['drain rate (first→last historical arrival)', (r) => `${fmt(r.readingsPerSec)} readings/s`],
    ['drain time', (r) => `${fmt(r.drainSec, 1)} s${r.timedOut ? ' (TIMED OUT)' : ''}`],
    ['total (uplink start → end)', (r) => `${fmt(r.totalSec, 1)} s`],
    ['live sent / received', (r) => `${fmt(r.live.sent)} / ${fmt(r.live.received)}`],
    ['live latency p50 / p99 / max', (r) => `${fmt(r.live.p50, 1)} / ${fmt(r.live.p99, 1)} / ${fmt(r.live.max, 1)} ms`],
    ['historical duplicates / missing', (r) => `${fmt(r.histDuplicates)} / ${fmt(r.histMissing)}`],
    ['live duplicates / missing', (r) => `${fmt(r.liveDuplicates)} / ${fmt(r.liveMissing)}`],
    ['live marked historical / live overflows', (r) => `${fmt(r.historicalFlagOnLive)} / ${fmt(r.liveOverflows)}`],
    ['RSS of this process (incl. subscriber worker)', (r) => `${fmt(r.rssMb)} MiB`],
  ];
  const w0 = Math.max(...rows.map(([label]) => label.length));
  const cols = results.map((r) => Math.max(r.name.length, ...rows.map(([, f]) => f(r).length)));
  console.log(['pass'.padEnd(w0), ...results.map((r, i) => r.name.padEnd(cols[i]!))].join('  '));
  for (const [label, f] of rows) console.log([label.padEnd(w0), ...results.map((r, i) => f(r).padEnd(cols[i]!))].join('  '));
  console.log(`\ntotal ${fmt((performance.now() - started) / 1000, 1)} s`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ results }, null, 2));
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  runSubscriber(workerData as SubscriberInput);
}
