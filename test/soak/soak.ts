/**
 * npm run soak -- --minutes N: the agent on a simulated site against Mosquitto for N minutes, with faults
 * injected at random, then checks of what the platform received. See docs/soak.md.
 *
 * Usage: npm run soak [-- --minutes 10 --seed 1 --json FILE]     npm run soak:ci (3 minutes)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { loadSite } from '../../config/index.js';
import { openOutbox } from '../../agent/outbox/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { ApiClient } from '../../agent/api/index.js';
import { serviceNodeFlags } from '../bench/support/service-flags.js';
import { startSerialSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import type { Profile } from '../../config/schema/index.js';
import { loadProfiles, shippedProfileDir } from '../../config/load/index.js';
import { startMosquitto, type Mosquitto } from '../bench/support/mosquitto.js';
import { checkAnnouncements, checkDecisions, checkDelivery, slope, type Arrival, type SeqRange } from './analyse.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    json: { type: 'string' },
  },
});
const MINUTES = Number(args.minutes);
if (!(MINUTES > 0) || MINUTES > 24 * 60) {
  console.error('soak: --minutes must be a number of minutes between 0 and 1440');
  process.exit(2);
}
const SEED = args.seed !== undefined ? Number(args.seed) : Math.floor(Math.random() * 1e9);
const SITE_ID = 'soak';
const GATEWAY = 'gw-soak';
const CHANNEL = 'tank.ch4';
const FAN = 'fan';
const DISK_FAULT = 'disk full (ENOSPC on a 16 MiB tmpfs), agent restarted on it';
const LINE = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;
const CLI = fileURLToPath(new URL('../../agent/cli/main.js', import.meta.url));

/** Processes and mounts of this run, undone however it ends. */
const leftovers = { children: new Set<ChildProcess>(), mounts: new Set<string>() };
process.once('exit', () => {
  for (const child of leftovers.children) child.kill('SIGKILL');
  for (const dir of leftovers.mounts) spawnSync('umount', ['-l', dir]);
});
// Ctrl-C or a CI timeout: exit through the handler above, so no agent, broker or mount is left behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const track = (child: ChildProcess): ChildProcess => {
  leftovers.children.add(child);
  child.once('exit', () => leftovers.children.delete(child));
  return child;
};

/** A small deterministic PRNG (mulberry32), so a failing soak can be run again with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const between = (lo: number, hi: number): number => lo + random() * (hi - lo);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text: string): void => console.log(`[soak ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}`);
const started = Date.now();

// ————— the site —————

function profiles(): Map<string, Profile> {
  const { profiles: loaded, errors } = loadProfiles([shippedProfileDir()]);
  if (errors.length > 0) throw new Error(`profiles: ${errors.map((e) => e.message).join('; ')}`);
  return new Map([...loaded].map(([id, { profile }]) => [id, profile]));
}

/** The septic-tank demo reduced to what the checks can judge: probe 1 decides the fan, probe 2 takes the device faults. */
function siteDocument(port: string): unknown {
  return {
    site: { id: SITE_ID, name: 'soak' },
    buses: [{ id: 'rs485', serial: { path: port, baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 }, timeoutMs: 200, retries: 0 }],
    devices: [
      {
        id: 'probe1',
        bus: 'rs485',
        unit: 1,
        profile: 'gas-module-10reg',
        priority: 'critical',
        interval: '200ms',
        channels: [
          {
            id: CHANNEL,
            register: 'concentration',
            range: { min: 0, max: 100 },
            alarm: { gas: 'ch4', L1: { delayOn: { samples: 1 } }, L2: { delayOn: { samples: 1 } } },
            // Every reading is recorded, so the replay sees what the gateway saw.
            report: { heartbeat: '200ms' },
          },
        ],
      },
      {
        id: 'probe2',
        bus: 'rs485',
        unit: 2,
        profile: 'gas-module-10reg',
        interval: '1s',
        channels: [{ id: 'tank.h2s', register: 'concentration', range: { min: 0, max: 100 } }],
      },
      { id: 'relays', bus: 'rs485', unit: 10, profile: 'relay-board-8ch', interval: '1s', channels: [{ id: 'tank.fan', register: 'relay_1' }] },
    ],
    outputs: [
      { id: FAN, kind: 'fan', modbus: { device: 'relays', register: 'relay_1' }, when: { any: [{ alarm: 'L1', channels: [CHANNEL] }] }, minOn: '0s', minOff: '0s' },
    ],
  };
}

// ————— harness pieces —————

/** A socat pty pair with fixed link paths; stop() makes the port vanish, start() brings it back. */
function ptyPair(dir: string): { a: string; b: string; start(): Promise<void>; stop(): Promise<void> } {
  const a = join(dir, 'sim');
  const b = join(dir, 'ttySOAK');
  let child: ChildProcess | undefined;
  return {
    a,
    b,
    async start() {
      child = track(spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' }));
      // Generous: on a loaded machine (CI, two cores shared) socat can take seconds to start.
      for (let i = 0; i < 3000 && !(existsSync(a) && existsSync(b)); i++) await sleep(10);
      if (!existsSync(a) || !existsSync(b)) throw new Error('socat did not create the pty pair');
    },
    async stop() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
      rmSync(a, { force: true });
      rmSync(b, { force: true });
    },
  };
}

/** The data folder on a private 16 MiB tmpfs when we may mount (root): filling it gives a real ENOSPC. */
function dataFolder(work: string): { dir: string; mounted: boolean; fill(): void; free(): void; unmount(): void } {
  const dir = join(work, 'data');
  mkdirSync(dir);
  const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir]).status === 0;
  if (mounted) leftovers.mounts.add(dir);
  const filler = join(dir, 'filler');
  return {
    dir,
    mounted,
    fill() {
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        // ENOSPC: full
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
    unmount: () => {
      if (!mounted) return;
      spawnSync('umount', ['-l', dir]);
      leftovers.mounts.delete(dir);
    },
  };
}

// ————— main —————

interface Fault {
  name: string;
  /** What it holds while active: two faults never hold the same thing at once. */
  holds: string[];
  run(): Promise<void>;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'vigil-soak-'));
  const data = dataFolder(work);
  // Its own folder under the system temp folder, not under `work` (0700): mosquitto, started as root, drops to
  // its own user, which must reach the folder to keep the platform's session across broker restarts.
  const brokerDir = mkdtempSync(join(tmpdir(), 'vigil-soak-broker-'));
  const broker: Mosquitto = await startMosquitto(brokerDir);
  const pty = ptyPair(work);
  await pty.start();
  const shipped = profiles();
  const simDevices = [
    { unit: 1, profile: shipped.get('gas-module-10reg')!, values: { unit_code: { constant: 0x2400 }, concentration: { replay: { values: [5, 30], everyMs: 2000, repeat: true } } } },
    { unit: 2, profile: shipped.get('gas-module-10reg')!, values: { unit_code: { constant: 0x0400 }, concentration: { noise: { base: 2, amplitude: 1 } } } },
    { unit: 10, profile: shipped.get('relay-board-8ch')! },
  ];
  let sim: RunningSimulator = await startSerialSimulator({ path: pty.a, line: LINE, devices: simDevices, seed: SEED });
  const siteFile = join(work, 'site.yaml');
  writeFileSync(siteFile, JSON.stringify(siteDocument(pty.b), null, 2)); // JSON is YAML
  const loaded = loadSite(siteFile);
  if (!loaded.ok) throw new Error(`soak site: ${loaded.errors.map((e) => e.message).join('; ')}`);
  const offsetFile = join(work, 'clock-offset');
  writeFileSync(offsetFile, '0');

  // The platform: every reading and event, tagged with the agent run and broker incarnation it arrived in.
  let run = 0;
  let epoch = 0;
  const arrivals: Arrival[] = [];
  /** The skipped ranges the births announced (docs/platform.md, "Gateway state"): what a platform explains gaps with. */
  const announced: Array<SeqRange & { at: number; run: number }> = [];
  let lastHistoricalAt = Date.now();
  const platform = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'soak-platform', clean: false, reconnectPeriod: 200, properties: { sessionExpiryInterval: 86_400 } });
  platform.on('error', () => {});
  platform.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as {
      online?: boolean;
      skippedSeqs?: SeqRange;
      skippedRanges?: SeqRange[];
      seq?: number;
      ts?: number;
      historical?: boolean;
      event?: Arrival['event'];
      readings?: Array<{ seq: number; channel: string; device: string; value: number | null; quality: string; reason?: string; ts: number; historical: boolean }>;
    };
    if (topic.endsWith('/state')) {
      // A birth names its own run's range, and every range of the recent opens (runs killed before they connected).
      const named = body.online ? [...(body.skippedSeqs ? [body.skippedSeqs] : []), ...(body.skippedRanges ?? [])] : [];
      for (const r of named) announced.push({ at: (Date.now() - started) / 1000, run, from: r.from, to: r.to });
    } else if (topic.endsWith('/telemetry')) {
      for (const r of body.readings ?? []) {
        if (r.historical) lastHistoricalAt = Date.now();
        arrivals.push({ at: (Date.now() - started) / 1000, seq: r.seq, kind: 'reading', historical: r.historical, run, epoch, channel: r.channel, deviceId: r.device, value: r.value, quality: r.quality, ...(r.reason ? { reason: r.reason } : {}), ts: r.ts });
      }
    } else if (topic.endsWith('/events')) {
      if (body.historical) lastHistoricalAt = Date.now();
      arrivals.push({ at: (Date.now() - started) / 1000, seq: body.seq!, kind: 'event', historical: Boolean(body.historical), run, epoch, ts: body.ts ?? 0, ...(body.event ? { event: body.event } : {}) });
    }
  });
  await new Promise<void>((resolve, reject) =>
    platform.once('connect', () => platform.subscribe([`vigil/${SITE_ID}/${GATEWAY}/telemetry`, `vigil/${SITE_ID}/${GATEWAY}/events`, `vigil/${SITE_ID}/${GATEWAY}/state`], { qos: 1 }, (e) => (e ? reject(e) : resolve()))),
  );

  // The agent, restarted by the harness after every kill -9.
  const env = {
    ...process.env,
    VIGIL_DATA_DIR: data.dir,
    VIGIL_MQTT_URL: broker.url,
    VIGIL_MQTT_PROTOCOL: '5',
    VIGIL_GATEWAY_ID: GATEWAY,
    VIGIL_OUTBOX_MAX_BYTES: String(8 * 1024 * 1024),
    VIGIL_LOG_LEVEL: 'warn',
    VIGIL_TEST_CLOCK_OFFSET_FILE: offsetFile,
  };
  let agent: ChildProcess | undefined;
  let agentLog = '';
  /** Every run's log, kept when a check fails. */
  const logDir = join(work, 'logs');
  mkdirSync(logDir);
  const timeline: Array<{ t: number; what: string }> = [];
  /** What the agent logged of its outbox: disk-full / disk-ok show the disk fault bit; damage must never show. */
  const outboxEvents: Record<string, number> = {};
  let enospc = 0;
  const unexpectedExits: string[] = [];
  const skips: SeqRange[] = [];
  const rss: Array<{ t: number; mb: number; run: number }> = [];
  const startAgent = (): void => {
    run++;
    timeline.push({ t: (Date.now() - started) / 1000, what: `agent run ${run} started` });
    const thisRun = run;
    // As the service runs it: the unit's Node flags, so RSS and heap are the deployed agent's.
    const child = track(spawn(process.execPath, [...serviceNodeFlags(), CLI, 'run', '--config', siteFile], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    agent = child;
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString();
      for (const m of text.matchAll(/"outbox":"(disk-full|disk-ok|store-damaged|writer-failed)"/g)) outboxEvents[m[1]!] = (outboxEvents[m[1]!] ?? 0) + 1;
      enospc += text.match(/"code":"ENOSPC"/g)?.length ?? 0;
      agentLog = (agentLog + text).slice(-20_000);
      appendFileSync(join(logDir, `agent-run-${thisRun}.log`), text);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && !(signal === 'SIGTERM' || code === 0)) unexpectedExits.push(`run ${thisRun}: exit ${code} ${signal ?? ''}: ${agentLog.slice(-1500)}`);
    });
  };
  /**
   * kill -9 loses nothing committed (docs/outbox.md, "Guarantees"). Right before each kill the harness asks the
   * agent what it has committed (GET /v1/buffer, `committedSeq`, as `vigil buffer` does); the range the next open
   * skips must start above it.
   */
  const killed: Array<{ run: number; committedSeq: number | null; skipped?: SeqRange | null }> = [];
  const bufferApi = new ApiClient(join(data.dir, 'vigil.sock'), 1500);
  const killAgent = async (): Promise<void> => {
    const child = agent;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const committedSeq = await bufferApi.buffer().then(
      // An outbox that could not open its store (memory only, writeError set) commits nothing: not judged.
      (b) => (b.writeError === null ? b.committedSeq : null),
      () => null, // starting, or too busy to answer in time: this kill is not judged
    );
    killed.push({ run, committedSeq });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  /**
   * After an unclean stop the next open skips the seqs the dead process had reserved (docs/outbox.md, "Seq
   * numbers"). The agent does not publish that range, so the harness reads it from a copy of the store: the
   * agent's own recovery runs on the original.
   */
  const readSkippedRange = async (): Promise<void> => {
    const copy = join(work, 'outbox-copy');
    rmSync(copy, { recursive: true, force: true });
    cpSync(join(data.dir, 'outbox'), copy, { recursive: true });
    const outbox = await openOutbox({ dir: copy, maxBytes: 64 * 1024 * 1024, logger: silentLogger() });
    const skipped = outbox.stats().skippedSeqs;
    await outbox.close();
    rmSync(copy, { recursive: true, force: true });
    if (skipped) skips.push(skipped);
    const kill = killed[killed.length - 1];
    if (kill && kill.skipped === undefined) kill.skipped = skipped;
  };
  // The heap can only be read inside the process: the agent's local API status (GET /v1/status on
  // <dataDir>/vigil.sock, what `vigil status` reads) reports it in `agent.memory`.
  const heap: Array<{ t: number; usedMb: number; totalMb: number; run: number }> = [];
  let statusWithoutHeap = 0;
  let heapAsking = false;
  const api = new ApiClient(join(data.dir, 'vigil.sock'), 3000);
  const sampleHeap = (pid: number, thisRun: number): void => {
    if (heapAsking) return;
    heapAsking = true;
    api
      .status()
      .then((status) => {
        if (status.agent.pid !== pid) return; // a socket left by the run before
        const memory = status.agent.memory;
        if (memory) heap.push({ t: (Date.now() - started) / 1000, usedMb: memory.heapUsedBytes / 1048576, totalMb: memory.heapTotalBytes / 1048576, run: thisRun });
        else statusWithoutHeap++;
      })
      .catch(() => {
        // starting, killed, or busy: the next sample
      })
      .finally(() => (heapAsking = false));
  };
  const sampler = setInterval(() => {
    const pid = agent?.pid;
    if (!pid || agent?.exitCode !== null) return;
    try {
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (Number.isFinite(kb)) rss.push({ t: (Date.now() - started) / 1000, mb: kb / 1024, run });
    } catch {
      // between a kill and its restart
    }
    sampleHeap(pid, run);
  }, 5000);

  startAgent();

  // ————— faults —————
  const counts: Record<string, number> = {};
  let diskFull = false;
  const faults: Fault[] = [
    {
      name: 'kill -9 of the agent',
      holds: ['agent'],
      run: async () => {
        if (diskFull) return; // a kill while the disk is full loses what waits in RAM: a different, documented case
        await killAgent();
        await sleep(between(200, 1500));
        await readSkippedRange();
        startAgent();
        await sleep(between(2000, 6000));
      },
    },
    {
      name: 'broker restart',
      holds: ['broker'],
      run: async () => {
        await broker.stop();
        await sleep(between(2000, 8000));
        await broker.start();
        epoch++;
      },
    },
    {
      name: 'broker stall (SIGSTOP)',
      holds: ['broker'],
      run: async () => {
        broker.stall();
        await sleep(between(2000, 10_000));
        broker.resume();
      },
    },
    {
      name: 'slave silent',
      holds: ['probe2'],
      run: async () => {
        sim.setFault(2, { kind: 'silent' });
        await sleep(between(3000, 12_000));
        sim.setFault(2, null);
      },
    },
    {
      name: 'slave spewing garbage',
      holds: ['probe2'],
      run: async () => {
        sim.setFault(2, { kind: 'garbage', length: 40 });
        await sleep(between(3000, 12_000));
        sim.setFault(2, null);
      },
    },
    {
      name: 'serial port vanishes and returns',
      holds: ['port', 'probe2'],
      run: async () => {
        await sim.close();
        await pty.stop();
        await sleep(between(1000, 5000));
        await pty.start();
        sim = await startSerialSimulator({ path: pty.a, line: LINE, devices: simDevices, seed: SEED });
      },
    },
    {
      name: 'clock jumps forward and back',
      holds: ['clock'],
      run: async () => {
        const jump = Math.round(between(-2, 2) * 86_400_000);
        writeFileSync(offsetFile, String(jump));
        await sleep(between(5000, 15_000));
        writeFileSync(offsetFile, '0');
      },
    },
  ];
  if (data.mounted) {
    faults.push({
      name: DISK_FAULT,
      holds: ['disk', 'agent'],
      run: async () => {
        // The outbox writes into a preallocated tail, so a disk that fills under a running agent is felt only when
        // the tail must grow. The agent is restarted on the full disk (at once, while its writes still land in
        // the preallocated tail, so the kill costs no more than any kill): the new run cannot create its segment.
        diskFull = true;
        data.fill();
        await sleep(between(300, 1000));
        await killAgent();
        await readSkippedRange();
        startAgent();
        await sleep(between(4000, 10_000));
        data.free();
        diskFull = false;
        await sleep(2000);
      },
    });
  }
  const held = new Set<string>();
  const active = new Set<Promise<void>>();
  const deadline = started + MINUTES * 60_000;
  // Faults during the first 85 %, then a quiet end in which the backlog drains.
  const faultsUntil = started + MINUTES * 60_000 * 0.85;
  const failures: string[] = [];
  while (Date.now() < faultsUntil) {
    await sleep(between(1500, 5000));
    const free = faults.filter((f) => f.holds.every((h) => !held.has(h)));
    if (free.length === 0) continue;
    const fault = free[Math.floor(random() * free.length)]!;
    counts[fault.name] = (counts[fault.name] ?? 0) + 1;
    log(fault.name);
    timeline.push({ t: (Date.now() - started) / 1000, what: fault.name });
    for (const h of fault.holds) held.add(h);
    const task = fault
      .run()
      .catch((error: unknown) => void failures.push(`${fault.name}: ${(error as Error).message}`))
      .finally(() => {
        for (const h of fault.holds) held.delete(h);
        active.delete(task);
      });
    active.add(task);
  }
  await Promise.all([...active]);
  log('faults over; draining');
  if (!agent || agent.exitCode !== null || agent.signalCode !== null) startAgent();
  // Drained: the time is up, nothing historical came for 5 s, and the broker has acknowledged every record the agent
  // had issued when the time was up (its outbox, GET /v1/buffer: nothing older waits). The quiet alone is not enough:
  // after the last broker outage the agent may still be waiting out its reconnect back-off (up to a minute), when
  // nothing comes at all. A hard cap of 2 more minutes.
  let drainThrough: number | null = null;
  const drained = async (): Promise<boolean> => {
    const buffer = await bufferApi.buffer().catch(() => null);
    if (!buffer) return false;
    drainThrough ??= buffer.lastSeq;
    return buffer.oldestSeq === null || buffer.oldestSeq > drainThrough;
  };
  while (Date.now() < deadline || Date.now() - lastHistoricalAt < 5000 || !(await drained())) {
    if (Date.now() > deadline + 120_000) {
      failures.push('the backlog did not drain within 2 minutes after the end');
      break;
    }
    await sleep(500);
  }
  clearInterval(sampler);
  const stopping = agent!;
  // The last seq before the stop: records above it were appended while stopping (outputs to their shutdown states).
  const issuedBeforeStop = await bufferApi.buffer().then(
    (b) => b.lastSeq,
    () => null,
  );
  const exit = new Promise<number | null>((resolve) => stopping.once('exit', (code) => resolve(code)));
  stopping.kill('SIGTERM');
  const exitCode = await exit;
  await sleep(1500); // the last acks and messages
  platform.end(true);
  await sim.close();
  await pty.stop();

  // The store after the clean stop: the last seq taken, and anything still unacked.
  const outbox = await openOutbox({ dir: join(data.dir, 'outbox'), maxBytes: 64 * 1024 * 1024, logger: silentLogger() });
  const stats = outbox.stats();
  // Records appended while the agent stopped (the outputs going to their shutdown states) wait, committed, for the
  // next start: they are not unsent. Unsent is what is still there from before the stop (the agent's last seq then,
  // or, when it did not answer, the last seq the platform got).
  const left = await outbox.read(0, 1_000_000, 1024 * 1024 * 1024);
  const lastReceived = Math.max(0, ...arrivals.map((a) => a.seq));
  const unsent = left.filter((r) => r.seq <= (issuedBeforeStop ?? lastReceived)).length;
  const appendedWhileStopping = left.length - unsent;
  await outbox.close();
  await broker.close();
  // The store goes with the tmpfs: a copy is kept, with the logs, for a failed run.
  cpSync(join(data.dir, 'outbox'), join(work, 'outbox-at-end'), { recursive: true });
  data.unmount();

  // The births are what a platform explains its gaps with; the copies of the store say what each open skipped.
  const key = (r: SeqRange): string => `${r.from}…${r.to}`;
  const announcements = checkAnnouncements(skips, announced, arrivals);
  // A committed seq at or above the start of the range skipped after its kill did not survive the kill.
  const judgedKills = killed.filter((k) => k.committedSeq !== null && k.skipped !== undefined);
  const committedLost = judgedKills.filter((k) => k.skipped && k.skipped.from <= k.committedSeq!);
  const delivery = checkDelivery(arrivals, stats.lastSeq, skips, stats.dropped.telemetry + stats.dropped.event);
  const readingsPerPoll = 1;
  const decisions = checkDecisions(loaded.site, CHANNEL, FAN, arrivals, skips, readingsPerPoll);
  const kills = skips.length;
  const seconds = (Date.now() - started) / 1000;
  const seqRate = delivery.receivedUnique / seconds;
  // The documented window of a kill -9: the telemetry waiting for its group commit (1 s), with 1 s of margin.
  const killWindow = Math.ceil(seqRate * 2);
  const worstKill = Math.max(0, ...delivery.lostAtKills);
  // Each restart starts memory over: the slope is taken over the run (between kills) with the most samples.
  const longestRun = (samples: ReadonlyArray<{ t: number; run: number }>, value: (i: number) => number): Array<[number, number]> => {
    const byRun = new Map<number, Array<[number, number]>>();
    samples.forEach((s, i) => byRun.set(s.run, [...(byRun.get(s.run) ?? []), [s.t / 3600, value(i)]]));
    return [...byRun.values()].sort((x, y) => y.length - x.length)[0] ?? [];
  };
  const longest = longestRun(rss, (i) => rss[i]!.mb);
  const longestHeap = longestRun(heap, (i) => heap[i]!.usedMb);

  const checks: Array<[string, boolean, string]> = [
    ['nothing lost outside the skipped ranges', delivery.missing === 0, `${delivery.missing} missing${delivery.missing ? ` (first: ${delivery.missingSample.join(', ')})` : ''}`],
    [
      'kill -9 lost nothing committed (skipped ranges start above the committedSeq read right before each kill; most kills judged)',
      // A check that judged nothing proves nothing: most kills must have had their committedSeq read.
      committedLost.length === 0 && judgedKills.length * 2 > killed.length,
      `${judgedKills.length} of ${killed.length} kills judged${committedLost.length ? `; lost committed: ${committedLost.map((k) => `run ${k.run} committed through ${k.committedSeq}, next open skipped from ${k.skipped!.from}`).join('; ')}` : ''}`,
    ],
    [`kill -9 losses within the documented window (≤ ${killWindow} seqs per kill)`, worstKill <= killWindow, `worst kill lost ${worstKill}, all kills ${delivery.lostAtKills.reduce((s, n) => s + n, 0)}`],
    [
      'births name the skipped range (every run that sent live data; none unknown to the store)',
      announcements.unannounced.length === 0 && announcements.unknown.length === 0,
      `${announcements.unannounced.length} unnamed${announcements.unannounced.length ? ` (${announcements.unannounced.map(key).join(', ')})` : ''}, ${announcements.unknown.length} unknown${announcements.unknown.length ? ` (${announcements.unknown.map(key).join(', ')})` : ''}`,
    ],
    ['order per connection (live, historical)', delivery.orderViolations === 0, `${delivery.orderViolations} violations ${delivery.orderSample.join('; ')}`],
    ['alarm decisions match the replay (some judged)', decisions.judged > 0 && decisions.wrong === 0 && decisions.unexpected === 0, `${decisions.matched} matched, ${decisions.wrong} wrong, ${decisions.unexpected} unexpected of ${decisions.judged} judged`],
    ['no alarm decision late', decisions.late === 0, `${decisions.late} late`],
    ['relay follows every judged L1 decision', decisions.relayWrong === 0, `${decisions.relayJudged - decisions.relayWrong} of ${decisions.relayJudged}`],
    ['the agent never exited by itself; clean stop', unexpectedExits.length === 0 && exitCode === 0, unexpectedExits.length ? unexpectedExits.join(' | ').slice(0, 2000) : `final exit ${exitCode}`],
    ['no store damage reported', (outboxEvents['store-damaged'] ?? 0) === 0, `store-damaged ${outboxEvents['store-damaged'] ?? 0}, writer-failed ${outboxEvents['writer-failed'] ?? 0}`],
    [
      'the disk fault reached the agent (ENOSPC logged)',
      !data.mounted || (counts[DISK_FAULT] ?? 0) === 0 || enospc > 0,
      data.mounted
        ? `${enospc} ENOSPC log line(s) after ${counts[DISK_FAULT] ?? 0} fault(s); outbox disk-full ${outboxEvents['disk-full'] ?? 0}, disk-ok ${outboxEvents['disk-ok'] ?? 0}`
        : 'not run (needs root)',
    ],
    ['nothing left unsent at the end', unsent === 0, `${unsent} unacked records (and ${appendedWhileStopping} appended while stopping, kept for the next start)`],
    ['harness ran every fault', failures.length === 0, failures.join('; ') || 'yes'],
  ];

  const report = {
    minutes: MINUTES,
    seed: SEED,
    seconds,
    faults: counts,
    diskFault: data.mounted ? 'tmpfs ENOSPC' : 'not run (needs root to mount a tmpfs)',
    delivery,
    decisions,
    kills,
    killWindow,
    outboxEvents,
    enospcLogLines: enospc,
    rss: { samples: rss.length, maxMb: Math.max(0, ...rss.map((s) => s.mb)), slopeLongestRunMbPerHour: slope(longest), slopeAllMbPerHour: slope(rss.map((s) => [s.t / 3600, s.mb] as const)) },
    heap: {
      samples: heap.length,
      maxUsedMb: Math.max(0, ...heap.map((s) => s.usedMb)),
      maxTotalMb: Math.max(0, ...heap.map((s) => s.totalMb)),
      slopeLongestRunMbPerHour: slope(longestHeap),
      longestRunSamples: longestHeap.length,
      statusWithoutHeap,
    },
    checks: checks.map(([name, ok, detail]) => ({ name, ok, detail })),
    // For a failing run: the skipped ranges, the fault timeline, and how the seqs around each missing one arrived.
    skips,
    announced,
    announcements,
    killed,
    timeline,
    missingContext: delivery.missingSample.slice(0, 1).flatMap((seq) =>
      arrivals.filter((a) => Math.abs(a.seq - seq) <= 40).map((a) => ({ seq: a.seq, at: a.at, run: a.run, epoch: a.epoch, historical: a.historical, kind: a.kind })),
    ),
  };
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  console.log(`\nsoak — npm run soak -- --minutes ${MINUTES} --seed ${SEED}  (${f(seconds / 60)} min)`);
  console.log(`faults: ${Object.entries(counts).map(([k, n]) => `${k} ×${n}`).join(', ')}${data.mounted ? '' : '; disk full: not run (needs root)'}`);
  console.log(`readings and events: taken ${delivery.taken} (last seq), delivered ${delivery.receivedUnique} unique, duplicates ${delivery.duplicates}`);
  console.log(`skipped after ${kills} kill(s): ${delivery.skipped} seqs (${delivery.skippedReceived} of them left live before the kill); lost uncommitted at kills: ${delivery.lostAtKills.join(', ') || 'none'}`);
  console.log(
    `births named ${announcements.announced} of the ${kills} skipped ranges; ${announcements.silent.length} not named because the next run never had a connection${announcements.silent.length ? ` (${announcements.silent.map(key).join(', ')})` : ''}`,
  );
  console.log(`dropped by the outbox bounds: ${delivery.dropped}; unsent at the end: ${unsent}; order violations: ${delivery.orderViolations}`);
  console.log(`alarm decisions: ${decisions.judged} judged, ${decisions.matched} matched, ${decisions.late} late, ${decisions.wrong} wrong, ${decisions.unexpected} unexpected, ${decisions.notJudged} next to restarts or holes; relay: ${decisions.relayJudged - decisions.relayWrong}/${decisions.relayJudged}`);
  if (decisions.samples.length > 0) console.log(`  ${decisions.samples.join('\n  ')}`);
  // A process settles for its first minutes (see bench:budget): a slope over a shorter run says nothing.
  const slopeText = (points: ReadonlyArray<readonly [number, number]>, value: number): string => {
    const spanS = points.length > 1 ? (points[points.length - 1]![0] - points[0]![0]) * 3600 : 0;
    return spanS >= 120 ? `slope ${f(value, 2)} MiB/h over the longest run (${points.length} samples, ${f(spanS / 60)} min)` : `no slope (the longest run between kills lasted ${f(spanS, 0)} s)`;
  };
  // Over time: the highest sample of each minute, and the slope over all samples (each restart starts over, so
  // this one shows growth that survives restarts, such as a backlog or an index).
  const byMinute = (samples: ReadonlyArray<{ t: number }>, value: (i: number) => number): string => {
    const top: number[] = [];
    samples.forEach((s, i) => {
      const m = Math.floor(s.t / 60);
      top[m] = Math.max(top[m] ?? 0, value(i));
    });
    return Array.from(top, (v) => (v === undefined ? '-' : v.toFixed(0))).join(' ');
  };
  const allSlope = (samples: ReadonlyArray<{ t: number }>, value: (i: number) => number): number => slope(samples.map((s, i) => [s.t / 3600, value(i)] as const));
  const heapLine =
    heap.length > 0
      ? `heap: ${heap.length} samples, max ${f(report.heap.maxUsedMb)} MiB used of ${f(report.heap.maxTotalMb)} MiB, ${slopeText(longestHeap, report.heap.slopeLongestRunMbPerHour)}; ` +
        `over all samples ${f(allSlope(heap, (i) => heap[i]!.usedMb), 2)} MiB/h; used by minute (max, MiB): ${byMinute(heap, (i) => heap[i]!.usedMb)}`
      : `heap: not sampled (${statusWithoutHeap > 0 ? `GET /v1/status answered ${statusWithoutHeap} time(s) without agent.memory` : 'the local API never answered'})`;
  console.log(
    `RSS: ${rss.length} samples, max ${f(report.rss.maxMb)} MiB, ${slopeText(longest, report.rss.slopeLongestRunMbPerHour)}; ` +
      `over all samples ${f(report.rss.slopeAllMbPerHour, 2)} MiB/h; by minute (max, MiB): ${byMinute(rss, (i) => rss[i]!.mb)}`,
  );
  console.log(heapLine);
  for (const [name, ok, detail] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`);
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
  const passed = checks.every(([, ok]) => ok);
  if (passed) {
    rmSync(work, { recursive: true, force: true });
    rmSync(brokerDir, { recursive: true, force: true });
  } else {
    rmSync(data.dir, { recursive: true, force: true });
    console.log(`agent logs of every run kept in ${logDir}, the store at the end in ${join(work, 'outbox-at-end')}, the broker's log in ${broker.logFile}`);
  }
  process.exit(passed ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error('soak: the harness failed:', error);
  process.exit(1);
});
