/**
 * A process that uses the outbox, for the crash-loop tests (test/outbox) and bench:outbox. Run from the build:
 *   node dist/test/bench/outbox-child.js '<json options>'
 *
 * mode "crash": appends events and telemetry under load until killed, and says on stdout (one line each,
 *   written synchronously to the pipe before going on):
 *     start <first seq of this run>     sent <last seq handed out>     ack <from> <to> (before acking)
 *     committed <seq> (stats().committedSeq, each time it grows)
 *   Payloads carry their own seq and stream, so the parent can check every record it reads back.
 * mode "burst": appends `records` telemetry records in one synchronous run (the flush interval an hour), says
 *   `start` and `sent` as above, then waits to be killed.
 * mode "site": a 50-channel, 1 Hz site for `seconds`; prints one JSON line with write_bytes from /proc/self/io
 *   over the steady part, the commit count and RSS.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openOutbox, type Outbox, type OutboxStream } from '../../agent/outbox/index.js';

export interface CrashChildOptions {
  mode: 'crash';
  dir: string;
  flushIntervalMs: number;
  maxBytes?: number;
  segmentBytes?: number;
}

export interface BurstChildOptions {
  mode: 'burst';
  dir: string;
  records: number;
}

export interface SiteChildOptions {
  mode: 'site';
  dir: string;
  channels: number;
  seconds: number;
  /** 'records': one record per reading (what the recorder does); 'batch': one record of all channels per second. */
  shape: 'records' | 'batch';
  /** Ack every record shortly after it was appended, as a connected uplink does. */
  ack: boolean;
}

export interface SiteChildResult {
  shape: SiteChildOptions['shape'];
  ack: boolean;
  seconds: number;
  readings: number;
  records: number;
  writeBytes: number;
  syncs: number;
  payloadBytes: number;
  /** Bytes the log grew by (frames as written, after close trimmed the preallocated tail). */
  logBytes: number;
  rssMb: number;
}

/** What every crash-mode payload looks like: its own seq and stream, and padding of a length derived from seq. */
export function crashPayload(seq: number, stream: OutboxStream): { k: number; s: OutboxStream; pad: string } {
  return { k: seq, s: stream, pad: 'x'.repeat(seq % 37) };
}

export function crashStream(seq: number): OutboxStream {
  return seq % 13 === 0 ? 'event' : 'telemetry';
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function stamp(): { wallTs: number; monoTs: number; clockSynced: boolean } {
  return { wallTs: Date.now(), monoTs: performance.now(), clockSynced: true };
}

async function crash(options: CrashChildOptions): Promise<void> {
  const outbox = await openOutbox({
    dir: options.dir,
    maxBytes: options.maxBytes ?? 256 * 1024 * 1024,
    flushIntervalMs: options.flushIntervalMs,
    ...(options.segmentBytes ? { segmentBytes: options.segmentBytes } : {}),
  });
  const first = outbox.stats().lastSeq + 1;
  say(`start ${first}`);
  let committed = outbox.stats().committedSeq;
  const reportCommitted = (): void => {
    const now = outbox.stats().committedSeq;
    if (now > committed) {
      committed = now;
      say(`committed ${now}`);
    }
  };
  for (;;) {
    const burst = 1 + Math.floor(Math.random() * 200);
    for (let i = 0; i < burst; i++) {
      const seq = outbox.stats().lastSeq + 1;
      const stream = crashStream(seq);
      const record = outbox.append(stream, crashPayload(seq, stream), stamp());
      if (record.seq !== seq) {
        say(`error seq ${record.seq} expected ${seq}`);
        process.exit(3);
      }
    }
    const last = outbox.stats().lastSeq;
    say(`sent ${last}`);
    if (Math.random() < 0.3 && last > first + 10) {
      const from = first + Math.floor(Math.random() * (last - first));
      const to = Math.min(last, from + Math.floor(Math.random() * 50));
      say(`ack ${from} ${to}`);
      const seqs: number[] = [];
      for (let s = from; s <= to; s++) seqs.push(s);
      outbox.ack(seqs);
    }
    if (Math.random() < 0.2) await outbox.flush();
    reportCommitted();
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
    reportCommitted();
  }
}

function writeBytes(): number {
  const io = readFileSync('/proc/self/io', 'utf8');
  const match = /^write_bytes:\s*(\d+)/m.exec(io);
  return match ? Number(match[1]) : NaN;
}

function reading(channel: number, tick: number): Record<string, unknown> {
  // The recorder's telemetry payload (agent/uplink/recorder.ts) for a gas probe channel.
  return {
    channelId: `tank1.ch${String(channel).padStart(2, '0')}`,
    deviceId: `probe-${Math.floor(channel / 8) + 1}`,
    indicator: `HJ-${1000 + channel}`,
    value: Math.round((20 + 5 * Math.sin(tick / 10 + channel) + Math.random()) * 1000) / 1000,
    unit: 'ppm',
    quality: 'good',
  };
}

/** Bytes of the segment files (meaningful after a close, which trims the preallocated tail). */
function logSize(dir: string): number {
  return readdirSync(dir)
    .filter((n) => n.startsWith('seg-'))
    .reduce((n, name) => n + statSync(join(dir, name)).size, 0);
}

async function site(options: SiteChildOptions): Promise<void> {
  const outbox: Outbox = await openOutbox({ dir: options.dir, maxBytes: 1024 * 1024 * 1024 });
  await outbox.flush();
  // Let the start-up writes (segment, run registry, seq mark) reach the disk before measuring.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  say('measuring');
  const before = writeBytes();
  const syncsBefore = outbox.stats().syncs;
  let readings = 0;
  let records = 0;
  let payloadBytes = 0;
  for (let tick = 0; tick < options.seconds; tick++) {
    const seqs: number[] = [];
    if (options.shape === 'batch') {
      const batch = Array.from({ length: options.channels }, (_, c) => reading(c, tick));
      payloadBytes += JSON.stringify(batch).length;
      seqs.push(outbox.append('telemetry', { readings: batch }, stamp()).seq);
      records++;
    } else {
      for (let c = 0; c < options.channels; c++) {
        const payload = reading(c, tick);
        payloadBytes += JSON.stringify(payload).length;
        seqs.push(outbox.append('telemetry', payload, stamp()).seq);
        records++;
      }
    }
    readings += options.channels;
    if (options.ack) setTimeout(() => outbox.ack(seqs), 30);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const after = writeBytes();
  const result: SiteChildResult = {
    shape: options.shape,
    ack: options.ack,
    seconds: options.seconds,
    readings,
    records,
    writeBytes: after - before,
    syncs: outbox.stats().syncs - syncsBefore,
    payloadBytes,
    logBytes: 0,
    rssMb: process.memoryUsage().rss / 1024 / 1024,
  };
  say('measured');
  await outbox.close();
  // A fresh store: after the close trimmed the preallocated tail, the files are what the run wrote.
  result.logBytes = logSize(options.dir);
  say(JSON.stringify(result));
}

async function burst(options: BurstChildOptions): Promise<void> {
  const outbox = await openOutbox({ dir: options.dir, maxBytes: 64 * 1024 * 1024, flushIntervalMs: 3_600_000 });
  let seq = 0;
  for (let i = 0; i < options.records; i++) {
    seq = outbox.append('telemetry', crashPayload(i, 'telemetry'), stamp()).seq;
    if (i === 0) say(`start ${seq}`);
  }
  say(`sent ${seq}`);
  setInterval(() => {}, 60_000); // until killed
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as CrashChildOptions | BurstChildOptions | SiteChildOptions;
  if (options.mode === 'crash') await crash(options);
  else if (options.mode === 'burst') await burst(options);
  else if (options.mode === 'site') await site(options);
  else throw new Error('unknown mode');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
