import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { RangeSet } from '../../agent/outbox/range-set.js';
import { crashPayload, crashStream, type BurstChildOptions, type CrashChildOptions } from '../bench/outbox-child.js';
import { CHILD, open, readAll, removeTempDirs, stamp, tempDir } from './helpers.js';

afterEach(removeTempDirs);

interface RunLog {
  start: number | null;
  maxSent: number;
  maxCommitted: number;
  acked: [number, number][];
  errors: string[];
}

/** Runs the child until `killAfterMs` after its first line (or after spawn when `early`), then kill -9. */
async function runAndKill(options: CrashChildOptions | BurstChildOptions, killAfterMs: number, early: boolean): Promise<RunLog> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: RunLog = { start: null, maxSent: 0, maxCommitted: 0, acked: [], errors: [] };
  let buffered = '';
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  };
  if (early) kill();
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [word, a, b] = line.split(' ');
      const n = Number(a);
      if (word === 'start') {
        log.start = n;
        if (!early) kill();
      } else if (word === 'sent') log.maxSent = Math.max(log.maxSent, n);
      else if (word === 'committed') log.maxCommitted = Math.max(log.maxCommitted, n);
      else if (word === 'ack') log.acked.push([n, Number(b)]);
      else log.errors.push(line);
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  if (signal !== 'SIGKILL') log.errors.push(`child exited by itself: code ${code} ${stderr}`);
  return log;
}

describe('outbox: kill -9 in a loop under load', () => {
  it('loses nothing committed, never corrupts a record, always opens, never reuses a seq (32 kills)', async () => {
    const dir = tempDir();
    const options: CrashChildOptions = { mode: 'crash', dir, flushIntervalMs: 50, segmentBytes: 256 * 1024 };
    /** Seqs each run reported committed: [start, maxCommitted] per run. */
    const committed = new RangeSet();
    const acked = new RangeSet();
    let highestSeen = 0;
    let kills = 0;
    let opensVerified = 0;
    for (let iteration = 0; iteration < 32; iteration++) {
      // Most kills land while the child appends; some while it is still starting (recovering the store).
      const early = iteration % 5 === 4;
      const log = await runAndKill(options, early ? 50 + Math.random() * 250 : 20 + Math.random() * 400, early);
      kills++;
      expect(log.errors).toEqual([]);
      if (log.start !== null) {
        // Seq continues above everything any earlier process handed out, sent or not.
        expect(log.start).toBeGreaterThan(highestSeen);
        if (log.maxCommitted >= log.start) committed.addRange(log.start, log.maxCommitted);
        highestSeen = Math.max(highestSeen, log.maxSent, log.start - 1);
      }
      for (const [from, to] of log.acked) acked.addRange(from, to);

      // The store opens, and every record in it is intact and in order.
      const { outbox, events } = await open(dir, { flushIntervalMs: 50 });
      expect(events.filter((e) => e.type === 'store-damaged')).toEqual([]);
      const records = await readAll(outbox, 5000, 8 * 1024 * 1024);
      const bad: string[] = [];
      let previous = 0;
      for (const r of records) {
        if (r.seq <= previous) bad.push(`seq ${r.seq} after ${previous}`);
        previous = r.seq;
        if (r.stream !== crashStream(r.seq) || JSON.stringify(r.payload) !== JSON.stringify(crashPayload(r.seq, r.stream))) {
          bad.push(`record ${r.seq} is not what was appended`);
        }
      }
      expect(bad.slice(0, 10)).toEqual([]);
      // Every record reported committed is there, unless the child acked it (acks may or may not persist).
      const present = new RangeSet();
      present.addAll(records.map((r) => r.seq));
      const missing: number[] = [];
      for (const [from, to] of committed.toArray()) {
        for (let seq = from; seq <= to; seq++) if (!present.has(seq) && !acked.has(seq)) missing.push(seq);
      }
      expect(missing.slice(0, 10)).toEqual([]);
      const stats = outbox.stats();
      expect(stats.lastSeq).toBeGreaterThanOrEqual(highestSeen);
      highestSeen = Math.max(highestSeen, stats.lastSeq);
      // Like an uplink that delivered them: ack most of what was checked, so the store stays small.
      const delivered = records.filter((r) => r.seq % 101 !== 0).map((r) => r.seq);
      outbox.ack(delivered);
      for (const seq of delivered) acked.add(seq);
      await outbox.close();
      opensVerified++;
    }
    expect(kills).toBe(32);
    expect(opensVerified).toBe(32);
    // The loop did real work: many committed records checked.
    expect(committed.size()).toBeGreaterThan(1000);
  }, 180_000);
});

describe('outbox: the skipped ranges of recent unclean opens are kept for the births', () => {
  it('two kills in a row: the second run, killed before anyone heard of it, still has its range named at the next open', async () => {
    const dir = tempDir();
    const options: CrashChildOptions = { mode: 'crash', dir, flushIntervalMs: 50, segmentBytes: 256 * 1024 };
    const first = await runAndKill(options, 150, false);
    const second = await runAndKill(options, 150, false);
    expect(first.errors).toEqual([]);
    expect(second.errors).toEqual([]);
    expect(second.start).not.toBeNull();

    const { outbox } = await open(dir, { flushIntervalMs: 50 });
    const stats = outbox.stats();
    // The range the second run skipped when it opened ends just below its first seq; this open's comes after it.
    expect(stats.skippedRanges).toHaveLength(2);
    expect(stats.skippedRanges[0]!.to).toBe(second.start! - 1);
    expect(stats.skippedRanges[1]).toEqual(stats.skippedSeqs);
    expect(stats.skippedRanges[0]!.to).toBeLessThan(stats.skippedRanges[1]!.from);
    await outbox.close();

    // A clean stop skips nothing new, and the list stays for later births.
    const { outbox: again } = await open(dir, { flushIntervalMs: 50 });
    expect(again.stats().skippedSeqs).toBeNull();
    expect(again.stats().skippedRanges).toEqual(stats.skippedRanges);
    await again.close();
  }, 60_000);
});

describe('outbox: telemetry held on the main thread between group commits', () => {
  it('a burst far above the seq reservation, then kill -9: the next run hands out no seq the burst used', async () => {
    const dir = tempDir();
    const records = 30_000;
    // The kill comes a second after the burst began: the writer has long had every batch posted to it.
    const log = await runAndKill({ mode: 'burst', dir, records }, 1000, false);
    expect(log.errors).toEqual([]);
    expect(log.maxSent).toBe(log.start! + records - 1);
    const { outbox } = await open(dir, { flushIntervalMs: 50 });
    const next = outbox.append('telemetry', { after: 'the kill' }, stamp());
    expect(next.seq).toBeGreaterThan(log.maxSent);
    await outbox.close();
  }, 60_000);
});
