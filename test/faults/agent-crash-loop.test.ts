import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { CLI } from '../support/cli.js';
import { shippedProfiles } from '../support/profiles.js';
import { ch4Alarm, ch4Channel, fanOutput, gasProbeDevice, relayBoardDevice, simulatedGasProbe, simulatedRelayBoard, tcpBusFor } from '../support/sites.js';
import { until } from '../support/until.js';

// Issue 4, crash test: `vigil run` (the compiled CLI, a child process) is killed with SIGKILL at random moments,
// ≥ 30 times, on one data folder, while a gas probe alternates so that events keep happening (alarm raised /
// cleared, fan on / off), with the broker up for some runs and down for others. Then one clean run drains the
// backlog. Checked from the outside, as the platform sees it:
//   1. every start succeeded: no child ever exited by itself (the store always opened), nothing fatal logged,
//      no store damage reported (a torn tail after kill -9 is expected and is not damage, docs/outbox.md);
//   2. within one run, live events arrive in strictly increasing seq order, and so do historical ones;
//   3. the received seqs cover first..last except for gaps explained by the kills (bounds below).
// Run with `npm run test:faults` (Aedes) or `VIGIL_TEST_BROKER=mosquitto npm run test:faults`.

const KILLS = 32;
const SITE_ID = 'crash';
const GATEWAY = 'gw-crash';

const profiles = shippedProfiles();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


interface Received {
  seq: number;
  kind: 'telemetry' | 'event';
  historical: boolean;
  run: number;
}

interface Run {
  index: number;
  brokerUp: boolean;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitedEarly: boolean;
  killed: boolean;
}

function siteFile(dir: string, sim: RunningSimulator): string {
  const site = {
    site: { id: SITE_ID, name: 'crash loop' },
    buses: [tcpBusFor(sim, { retries: 0 })],
    devices: [
      gasProbeDevice({ priority: 'critical', channels: [ch4Channel({ alarm: ch4Alarm(1), report: { heartbeat: '100ms' } })] }),
      relayBoardDevice({ interval: '500ms' }),
    ],
    outputs: [fanOutput()],
  };
  const file = join(dir, 'site.yaml');
  writeFileSync(file, JSON.stringify(site, null, 2)); // JSON is YAML
  return file;
}

describe('kill -9 loop under load, broker up and down', () => {
  it(`survives ${KILLS} SIGKILLs: every start opens the store, nothing committed is lost`, async () => {
    const started = Date.now();
    const broker: TestBroker = await startBroker();
    cleanups.push(() => broker.close());
    // The probe alternates 5 ↔ 30 %LEL every second: L1 (20 %LEL) raised and cleared, the fan switched on and off.
    const sim = await startTcpSimulator({
      devices: [simulatedGasProbe(profiles, { replay: { values: [5, 30], everyMs: 1000, repeat: true } }), simulatedRelayBoard(profiles)],
    });
    cleanups.push(() => sim.close());

    const work = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const dataDir = join(work, 'data');
    const config = siteFile(work, sim);

    // The platform: records every seq of every telemetry reading and every event, tagged with the run in progress.
    let currentRun = -1;
    const received: Received[] = [];
    let lastHistorical = Date.now();
    let subscribed = false;
    const platform = mqtt.connect(broker.url, { protocolVersion: broker.protocolVersion, reconnectPeriod: 100, resubscribe: false, clean: true });
    cleanups.push(() => platform.endAsync());
    platform.on('error', () => {});
    platform.on('close', () => (subscribed = false));
    platform.on('connect', () => {
      platform.subscribe(`vigil/${SITE_ID}/${GATEWAY}/#`, { qos: 1 }, (error) => (subscribed = !error));
    });
    platform.on('message', (topic, payload) => {
      const kind = topic.endsWith('/telemetry') ? 'telemetry' : topic.endsWith('/events') ? 'event' : null;
      if (!kind) return;
      const body = JSON.parse(payload.toString()) as { seq?: number; historical?: boolean; readings?: Array<{ seq: number; historical?: boolean }> };
      if (body.historical || body.readings?.some((r) => r.historical)) lastHistorical = Date.now();
      if (kind === 'event') received.push({ seq: body.seq!, kind, historical: Boolean(body.historical), run: currentRun });
      else for (const r of body.readings ?? []) received.push({ seq: r.seq, kind, historical: Boolean(r.historical ?? body.historical), run: currentRun });
    });
    await until(() => subscribed, 10_000, 'platform subscribed');

    const env = {
      ...process.env,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_MQTT_URL: broker.url,
      VIGIL_MQTT_PROTOCOL: broker.protocolVersion === 4 ? '3.1.1' : '5',
      VIGIL_GATEWAY_ID: GATEWAY,
    };
    const runs: Run[] = [];
    let brokerUp = true;
    const startRun = (index: number): Run => {
      const child = spawn(process.execPath, [CLI, 'run', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const run: Run = { index, brokerUp, child, stdout: '', stderr: '', exitedEarly: false, killed: false, exit: undefined as never };
      child.stdout!.on('data', (c: Buffer) => (run.stdout += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (run.stderr += c.toString()));
      run.exit = new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          if (!run.killed) run.exitedEarly = true;
          resolve({ code, signal });
        }),
      );
      runs.push(run);
      cleanups.push(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
      return run;
    };

    for (let i = 0; i < KILLS; i++) {
      // Every 4th iteration flips the broker, between runs (so the platform's own subscription is never the
      // thing that loses a message): runs 4–7, 12–15, … are offline and leave a backlog.
      if (i > 0 && i % 4 === 0) {
        if (brokerUp) {
          await sleep(300); // let the broker hand the platform what it already accepted
          await broker.stop();
          brokerUp = false;
        } else {
          await broker.start();
          brokerUp = true;
          await until(() => subscribed, 10_000, 'platform subscribed again');
        }
      }
      currentRun = i;
      const run = startRun(i);
      await sleep(300 + Math.random() * 2200);
      run.killed = !run.exitedEarly;
      run.child.kill('SIGKILL');
      await run.exit;
    }

    // The final run: broker up, then wait until no historical (backlog) seq has arrived for 4 s: live data keeps
    // coming, and the outbox stats are not reachable from outside. Then a clean stop.
    if (!brokerUp) {
      await broker.start();
      brokerUp = true;
      await until(() => subscribed, 10_000, 'platform subscribed again');
    }
    currentRun = KILLS;
    const final = startRun(KILLS);
    await until(() => received.some((r) => r.run === KILLS && !r.historical), 15_000, 'live data from the final run');
    lastHistorical = Date.now();
    await until(() => Date.now() - lastHistorical > 4000, 90_000, 'backlog drained');
    final.killed = true;
    final.child.kill('SIGTERM');
    const finalExit = await final.exit;

    // 1. Every start succeeded.
    const early = runs.filter((r) => r.exitedEarly && r !== final).map((r) => `run ${r.index}: ${r.stderr || r.stdout.slice(-500)}`);
    expect(early).toEqual([]);
    expect(finalExit).toEqual({ code: 0, signal: null });
    const logLines = runs.flatMap((r) => r.stdout.split('\n').filter(Boolean).map((line) => ({ run: r.index, line })));
    const parsed = logLines.map(({ run, line }) => {
      try {
        return { run, ...(JSON.parse(line) as { level?: number; msg?: string }) };
      } catch {
        return { run, level: 0, msg: line };
      }
    });
    const fatal = parsed.filter((l) => (l.level ?? 0) >= 60);
    const damage = parsed.filter((l) => (l.level ?? 0) >= 50 && /damag|writer|memory-only/i.test(l.msg ?? ''));
    const stderrs = runs.filter((r) => r.stderr.trim() !== '').map((r) => `run ${r.index}: ${r.stderr}`);
    expect(fatal).toEqual([]);
    expect(damage).toEqual([]);
    expect(stderrs).toEqual([]);

    // 2. Per run, live events in strictly increasing seq order, historical ones too.
    for (let run = 0; run <= KILLS; run++) {
      for (const historical of [false, true]) {
        const seqs = received.filter((r) => r.run === run && r.kind === 'event' && r.historical === historical).map((r) => r.seq);
        for (let k = 1; k < seqs.length; k++) expect(seqs[k], `run ${run} ${historical ? 'historical' : 'live'} events`).toBeGreaterThan(seqs[k - 1]!);
      }
    }

    // 3. Coverage. Gaps are only allowed where a kill explains them:
    //  - a "skip": after an unclean stop, seqs continue above the seq mark, which is kept 5,000–10,000 ahead
    //    (docs/outbox.md, "Seq numbers"); at most one per kill. It may swallow the killed run's lost tail.
    //  - "lost tail": telemetry waiting for its group commit (flush interval 1 s) is lost by kill -9. Events in
    //    that window are committed at once and survive, so they split the loss into pieces: at most one piece
    //    per event in the last second + 1. The probe toggles every second, which gives ≤ 4 events (alarm, output,
    //    and their pair) per second: ≤ 6 pieces per kill. The telemetry rate here is ~10/s (100 ms heartbeat)
    //    + ~2/s (relay) + the events, so ≤ 1.5 s × 20/s = 30 seqs per kill in small gaps, with margin for a
    //    writer that is a little behind when the kill lands.
    const seqs = [...new Set(received.map((r) => r.seq))].sort((a, b) => a - b);
    const duplicates = received.length - seqs.length;
    const gaps: Array<{ from: number; to: number; size: number }> = [];
    for (let k = 1; k < seqs.length; k++) if (seqs[k]! - seqs[k - 1]! > 1) gaps.push({ from: seqs[k - 1]! + 1, to: seqs[k]! - 1, size: seqs[k]! - seqs[k - 1]! - 1 });
    const SKIP_MIN = 1000;
    const skips = gaps.filter((g) => g.size >= SKIP_MIN);
    const small = gaps.filter((g) => g.size < SKIP_MIN);
    const smallSeqs = small.reduce((n, g) => n + g.size, 0);
    const kills = runs.filter((r) => r.killed && r !== final).length;
    const events = received.filter((r) => r.kind === 'event');
    const figures = {
      broker: broker.kind,
      kills,
      offlineRuns: runs.filter((r) => !r.brokerUp).length,
      messages: received.length,
      uniqueSeqs: seqs.length,
      events: new Set(events.map((e) => e.seq)).size,
      historical: received.filter((r) => r.historical).length,
      duplicates,
      firstSeq: seqs[0],
      lastSeq: seqs.at(-1),
      skips: skips.length,
      smallGaps: small.length,
      smallGapSeqs: smallSeqs,
      warnings: parsed.filter((l) => l.level === 40).length,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    console.log(`crash-loop figures: ${JSON.stringify(figures)}`);
    expect(kills).toBeGreaterThanOrEqual(30);
    expect(events.length).toBeGreaterThan(0);
    expect(skips.length).toBeLessThanOrEqual(kills);
    expect(small.length).toBeLessThanOrEqual(kills * 6);
    expect(smallSeqs).toBeLessThanOrEqual(kills * 30);
    // Duplicates come only from messages in flight at a kill (sent, not yet acked): bounded by the in-flight
    // window per kill; report them, and keep them well under one window (100) per kill.
    expect(duplicates).toBeLessThanOrEqual(kills * 100);
  });
});
