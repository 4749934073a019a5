/**
 * bench:outbox — what the durable outbox costs and how fast it drains.
 *
 *  1. Append: records/s through append() and the main-thread time per call (the safety loop's cost), for
 *     telemetry (group-committed) and for events (each one synced before the next is counted).
 *  2. Drain: a backlog of N records (default 1,000,000) built, closed, reopened (the recovery scan), then read
 *     and acked from disk as fast as possible, the way the uplink does (read after the last seq, ack the page).
 *  3. Disk writes on a 50-channel, 1 Hz site at the default flush interval, in child processes for `--site-seconds`
 *     (default 60): write_bytes from /proc/<pid>/io per reading, beside the floor of one 4 KiB page per commit.
 *     As root, each child also gets its own loop-mounted ext4 (4 KiB blocks), and the device's own write counter
 *     adds what /proc/<pid>/io cannot see: the file system journal.
 *  4. RSS of this process after the drain and of the site children.
 *
 * Usage: npm run bench:outbox [-- --backlog 1000000 --site-seconds 60 --dir /var/tmp --json FILE]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openOutbox, type Outbox } from '../../agent/outbox/index.js';
import type { SiteChildOptions, SiteChildResult } from './outbox-child.js';
import { CHANNELS, reading, yieldToLoop } from './support/telemetry.js';

const { values: args } = parseArgs({
  options: {
    backlog: { type: 'string', default: '1000000' },
    'site-seconds': { type: 'string', default: '60' },
    appends: { type: 'string', default: '200000' },
    events: { type: 'string', default: '2000' },
    dir: { type: 'string' },
    json: { type: 'string' },
  },
});
const BACKLOG = Number(args.backlog);
const SITE_SECONDS = Number(args['site-seconds']);
const APPENDS = Number(args.appends);
const EVENTS = Number(args.events);
const PAGE = 4096;
const MiB = 1024 * 1024;

const root = mkdtempSync(join(args.dir ?? tmpdir(), 'vigil-bench-outbox-'));
const stamp = (): { wallTs: number; monoTs: number; clockSynced: boolean } => ({ wallTs: Date.now(), monoTs: performance.now(), clockSynced: true });


// ————— 1. append —————

interface AppendResult {
  telemetryPerSec: number;
  telemetryUsPerAppend: number;
  eventsPerSec: number;
  eventUsPerAppend: number;
}

async function benchAppend(): Promise<AppendResult> {
  const dir = join(root, 'append');
  const outbox = await openOutbox({ dir, maxBytes: 1024 * MiB });
  const payloads = Array.from({ length: 1000 }, (_, i) => reading(i));
  let inAppend = 0;
  const start = performance.now();
  for (let done = 0; done < APPENDS; ) {
    const t0 = performance.now();
    for (let i = 0; i < 1000 && done < APPENDS; i++, done++) outbox.append('telemetry', payloads[i]!, stamp());
    inAppend += performance.now() - t0;
    await yieldToLoop();
  }
  await outbox.flush();
  const telemetryMs = performance.now() - start;

  // Events: each one is synced at once; wait for each commit before counting the next (a burst of alarms).
  let eventAppendMs = 0;
  const eventStart = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const t0 = performance.now();
    const record = outbox.append('event', { type: 'alarm', channelId: 'tank1.ch01', level: 'L2', value: 25.2 + i }, stamp());
    eventAppendMs += performance.now() - t0;
    while (outbox.stats().committedSeq < record.seq) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const eventMs = performance.now() - eventStart;
  await outbox.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    telemetryPerSec: APPENDS / (telemetryMs / 1000),
    telemetryUsPerAppend: (inAppend * 1000) / APPENDS,
    eventsPerSec: EVENTS / (eventMs / 1000),
    eventUsPerAppend: (eventAppendMs * 1000) / EVENTS,
  };
}

// ————— 2. drain —————

interface DrainResult {
  records: number;
  buildSec: number;
  diskMb: number;
  openMs: number;
  drainSec: number;
  recordsPerSec: number;
  rssMb: number;
  leftAfter: number;
}

async function benchDrain(): Promise<DrainResult> {
  const dir = join(root, 'drain');
  const maxBytes = 4096 * MiB;
  let outbox: Outbox = await openOutbox({ dir, maxBytes });
  const buildStart = performance.now();
  for (let i = 0; i < BACKLOG; ) {
    for (let k = 0; k < 2000 && i < BACKLOG; k++, i++) {
      // An event now and then, as a real backlog has: it cuts the telemetry blocks and is synced alone.
      outbox.append(i % 5000 === 4999 ? 'event' : 'telemetry', reading(i), stamp());
    }
    await yieldToLoop();
  }
  await outbox.flush();
  const buildSec = (performance.now() - buildStart) / 1000;
  const diskMb = outbox.stats().bytes / MiB;
  await outbox.close();

  const openStart = performance.now();
  outbox = await openOutbox({ dir, maxBytes });
  const openMs = performance.now() - openStart;
  const drainStart = performance.now();
  let after = 0;
  let drained = 0;
  for (;;) {
    const records = await outbox.read(after, 1000, 1 * MiB);
    if (records.length === 0) break;
    drained += records.length;
    after = records[records.length - 1]!.seq;
    outbox.ack(records.map((r) => r.seq));
  }
  await outbox.flush();
  const drainSec = (performance.now() - drainStart) / 1000;
  const rssMb = process.memoryUsage().rss / MiB;
  const leftAfter = outbox.stats().records;
  await outbox.close();
  rmSync(dir, { recursive: true, force: true });
  return { records: drained, buildSec, diskMb, openMs, drainSec, recordsPerSec: drained / drainSec, rssMb, leftAfter };
}

// ————— 3. site disk writes —————

interface SiteResult extends SiteChildResult {
  /** Device bytes (journal included) over the same window, when a loop device was available. */
  deviceBytes: number | null;
}

interface LoopMount {
  mountPoint: string;
  device: string;
  cleanup(): void;
}

/** A private ext4 (4 KiB blocks, like Raspberry Pi OS) on a loop device, so its write counter is ours alone. */
function loopMount(name: string): LoopMount | null {
  if (process.getuid?.() !== 0) return null;
  const image = join(root, `${name}.ext4`);
  const mountPoint = join(root, `${name}.mnt`);
  try {
    writeFileSync(image, '');
    spawnSync('truncate', ['-s', '512M', image], { stdio: 'ignore' });
    if (spawnSync('mkfs.ext4', ['-q', '-F', '-b', '4096', image], { stdio: 'ignore' }).status !== 0) return null;
    mkdirSync(mountPoint);
    if (spawnSync('mount', ['-o', 'loop', image, mountPoint], { stdio: 'ignore' }).status !== 0) return null;
    const source = spawnSync('findmnt', ['-n', '-o', 'SOURCE', mountPoint], { encoding: 'utf8' }).stdout.trim();
    return {
      mountPoint,
      device: basename(source),
      cleanup: () => {
        spawnSync('umount', [mountPoint], { stdio: 'ignore' });
        rmSync(image, { force: true });
      },
    };
  } catch {
    return null;
  }
}

function deviceWrittenBytes(device: string): number {
  // /sys/block/<dev>/stat field 7: sectors written (512 bytes each).
  const fields = readFileSync(`/sys/block/${device}/stat`, 'utf8').trim().split(/\s+/);
  return Number(fields[6]) * 512;
}

async function runSite(shape: SiteChildOptions['shape'], ack: boolean): Promise<SiteResult> {
  const name = `site-${shape}-${ack ? 'acked' : 'outage'}`;
  const mount = loopMount(name);
  const dir = join(mount?.mountPoint ?? root, name);
  const options: SiteChildOptions = { mode: 'site', dir, channels: CHANNELS, seconds: SITE_SECONDS, shape, ack };
  const script = fileURLToPath(new URL('./outbox-child.js', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let device0 = 0;
  let deviceBytes: number | null = null;
  let result: SiteChildResult | undefined;
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'measuring' && mount) device0 = deviceWrittenBytes(mount.device);
      else if (line === 'measured' && mount) deviceBytes = deviceWrittenBytes(mount.device) - device0;
      else if (line.startsWith('{')) result = JSON.parse(line) as SiteChildResult;
    }
  });
  await new Promise((resolve) => child.on('exit', resolve));
  mount?.cleanup();
  if (!result) throw new Error(`site child ${name} gave no result`);
  return { ...result, deviceBytes };
}

// ————— report —————

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  const started = performance.now();
  // The site children take a minute of wall time each and almost no CPU: run them beside the rest.
  const sites = Promise.all([runSite('records', true), runSite('records', false), runSite('batch', true)]);
  const append = await benchAppend();
  const drain = await benchDrain();
  const siteResults = await sites;

  console.log('\nbench:outbox — npm run bench:outbox' + (process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''));
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, store in ${root}\n`);
  console.log('Append (main thread)');
  console.log(`  telemetry  ${fmt(append.telemetryPerSec)} records/s sustained (until committed), ${fmt(append.telemetryUsPerAppend, 2)} µs per append() on the main thread`);
  console.log(`  events     ${fmt(append.eventsPerSec)} committed events/s (one fdatasync each), ${fmt(append.eventUsPerAppend, 2)} µs per append()`);
  console.log('\nDrain of a backlog from disk (read 1000 after the last seq, ack them, repeat)');
  console.log(`  backlog    ${fmt(drain.records)} records, ${fmt(drain.diskMb, 1)} MiB on disk, built in ${fmt(drain.buildSec, 1)} s`);
  console.log(`  reopen     ${fmt(drain.openMs)} ms (recovery scan of the whole store)`);
  console.log(`  drain      ${fmt(drain.recordsPerSec)} records/s (${fmt(drain.drainSec, 1)} s), ${drain.leftAfter} left; RSS after: ${fmt(drain.rssMb)} MiB`);
  console.log(`\nDisk writes, ${CHANNELS} channels at 1 Hz, default flush interval (1 s), ${SITE_SECONDS} s per run`);
  const header = ['shape', 'uplink', 'readings', 'commits', 'write_bytes', 'B/reading', 'floor B/reading', '× floor', 'device B/reading', 'log B/reading', 'RSS MiB'];
  const rows = siteResults.map((r) => {
    const floor = (PAGE * r.seconds) / r.readings;
    const perReading = r.writeBytes / r.readings;
    return [
      r.shape === 'records' ? '50 records/s' : '1 batch of 50/s',
      r.ack ? 'acking' : 'outage',
      fmt(r.readings),
      fmt(r.syncs),
      fmt(r.writeBytes),
      fmt(perReading, 1),
      fmt(floor, 1),
      fmt(perReading / floor, 2),
      r.deviceBytes === null ? 'n/a (not root)' : fmt(r.deviceBytes / r.readings, 1),
      fmt(r.logBytes / r.readings, 1),
      fmt(r.rssMb),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    '  write_bytes: /proc/<child>/io over the steady part; floor: one 4 KiB page per commit; device: the loop device\'s own\n' +
      '  counter (journal included); log: bytes the log grew by = the zero preallocation it needs once, amortized.',
  );
  console.log(`\ntotal ${fmt((performance.now() - started) / 1000, 1)} s`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ append, drain, sites: siteResults }, null, 2));
  rmSync(root, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  rmSync(root, { recursive: true, force: true });
  process.exit(1);
});
