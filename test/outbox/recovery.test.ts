import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SEQ_RESERVE } from '../../agent/outbox/index.js';
import { SKIPPED_FILE, SKIPPED_KEPT } from '../../agent/outbox/skipped.js';
import { createLogger, type Logger } from '../../agent/log/index.js';
import { open, readAll, removeTempDirs, segmentFiles, stamp, tempDir } from './helpers.js';

afterEach(removeTempDirs);

/** A closed store with several segments: events split the telemetry into separate frames. */
async function fillStore(dir: string, count = 300): Promise<void> {
  const { outbox } = await open(dir, { segmentBytes: 4 * 1024 });
  for (let i = 1; i <= count; i++) {
    outbox.append(i % 10 === 0 ? 'event' : 'telemetry', { i, noise: randomBytes(30).toString('hex') }, stamp());
    if (i % 25 === 0) await outbox.flush();
  }
  await outbox.close();
}

function damagedCopies(dir: string): string[] {
  const base = join(dir, 'damaged');
  if (!existsSync(base)) return [];
  return readdirSync(base).flatMap((d) => readdirSync(join(base, d)));
}

function frameStarts(file: string): number[] {
  // Frames after the 80-byte header: [len u32][crc u32][body].
  const buf = readFileSync(file);
  const starts: number[] = [];
  for (let at = 80; at + 8 <= buf.length; ) {
    const len = buf.readUInt32LE(at);
    if (len === 0) break;
    starts.push(at);
    at += 8 + len;
  }
  return starts;
}

describe('outbox: torn tail', () => {
  it('cuts a half-written last frame at open, keeps everything before it, and never reuses its seqs', async () => {
    const dir = tempDir();
    await fillStore(dir);
    const segments = segmentFiles(dir);
    const last = join(dir, segments[segments.length - 1]!);
    const starts = frameStarts(last);
    const lastFrame = starts[starts.length - 1]!;
    const size = statSync(last).size;
    truncateSync(last, lastFrame + Math.floor((size - lastFrame) / 2));

    const { outbox, events } = await open(dir);
    expect(events.filter((e) => e.type === 'store-damaged')).toEqual([]);
    const records = await readAll(outbox);
    const seqs = records.map((r) => r.seq);
    // Everything before the torn frame is there, in order and intact.
    expect(seqs.length).toBeGreaterThan(250);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const r of records) expect((r.payload as { i: number }).i).toBe(r.seq);
    expect(statSync(last).size).toBe(lastFrame);
    expect(outbox.append('telemetry', { after: true }, stamp()).seq).toBe(301);
    await outbox.close();
  });

  it('drops garbage after the last frame without losing a record', async () => {
    const dir = tempDir();
    await fillStore(dir);
    const segments = segmentFiles(dir);
    appendFileSync(join(dir, segments[segments.length - 1]!), randomBytes(1000));
    const { outbox, events } = await open(dir);
    expect(events).toEqual([]);
    expect((await readAll(outbox)).map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    await outbox.close();
  });

  it('reads a preallocated zero tail (what a kill -9 leaves) as the clean end', async () => {
    const dir = tempDir();
    await fillStore(dir);
    const segments = segmentFiles(dir);
    appendFileSync(join(dir, segments[segments.length - 1]!), Buffer.alloc(64 * 1024));
    const { outbox, events } = await open(dir);
    expect(events).toEqual([]);
    expect((await readAll(outbox)).length).toBe(300);
    await outbox.close();
  });
});

describe('outbox: damaged store', () => {
  it('moves a segment damaged in the middle aside, keeps its valid prefix and the later segments, and seq continues', async () => {
    const dir = tempDir();
    await fillStore(dir);
    const segments = segmentFiles(dir);
    expect(segments.length).toBeGreaterThan(3);
    const victim = join(dir, segments[1]!);
    const starts = frameStarts(victim);
    expect(starts.length).toBeGreaterThan(2);
    const buf = readFileSync(victim);
    const hit = starts[2]! + 20;
    buf[hit] = buf[hit]! ^ 0xff;
    writeFileSync(victim, buf);

    const { outbox, events } = await open(dir);
    const damaged = events.filter((e) => e.type === 'store-damaged');
    expect(damaged).toHaveLength(1);
    expect(damaged[0]!.detail).toMatch(/crc mismatch/);
    expect(outbox.stats().damagedStoresMovedAside).toBe(1);
    expect(damagedCopies(dir)).toEqual([segments[1]]);

    const seqs = (await readAll(outbox)).map((r) => r.seq);
    // A gap where the damaged frames were; everything else in order; nothing after it lost.
    expect(seqs.length).toBeLessThan(300);
    expect(seqs.length).toBeGreaterThan(200);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(seqs.at(-1)).toBe(300);
    expect(seqs[0]).toBe(1);
    expect(outbox.append('event', { after: 'damage' }, stamp()).seq).toBe(301);
    await outbox.close();

    // The store stays usable: the next open reports nothing new.
    const again = await open(dir);
    expect(again.events).toEqual([]);
    expect((await readAll(again.outbox)).at(-1)!.seq).toBe(301);
    await again.outbox.close();
  });

  it('moves a segment with a bad header aside and keeps the rest', async () => {
    const dir = tempDir();
    await fillStore(dir);
    const segments = segmentFiles(dir);
    const victim = join(dir, segments[0]!);
    const buf = readFileSync(victim);
    buf.write('NOTALOG!', 0, 'latin1');
    writeFileSync(victim, buf);
    const { outbox, events } = await open(dir);
    expect(events.map((e) => e.type)).toEqual(['store-damaged']);
    expect(events[0]!.detail).toMatch(/bad header/);
    const seqs = (await readAll(outbox)).map((r) => r.seq);
    expect(seqs[0]).toBeGreaterThan(1);
    expect(seqs.at(-1)).toBe(300);
    expect(outbox.append('telemetry', {}, stamp()).seq).toBe(301);
    await outbox.close();
  });

  it('a lost or emptied log cannot roll seq back: the seq mark keeps it', async () => {
    const dir = tempDir();
    await fillStore(dir);
    for (const name of segmentFiles(dir)) rmSync(join(dir, name));
    const { outbox } = await open(dir);
    expect(outbox.stats().records).toBe(0);
    expect(outbox.append('event', {}, stamp()).seq).toBe(301);
    await outbox.close();
  });

  it('a damaged seq mark is moved aside and seq jumps a full reservation above anything in the log', async () => {
    const dir = tempDir();
    await fillStore(dir);
    writeFileSync(join(dir, 'seq.hwm'), randomBytes(1024));
    const { outbox, events } = await open(dir);
    expect(events.map((e) => e.type)).toEqual(['store-damaged']);
    expect(damagedCopies(dir)).toEqual(['seq.hwm']);
    expect(outbox.stats().skippedSeqs).toEqual({ from: 301, to: 300 + SEQ_RESERVE });
    expect(outbox.append('telemetry', {}, stamp()).seq).toBe(301 + SEQ_RESERVE);
    expect((await readAll(outbox)).length).toBe(301);
    await outbox.close();
  });

  it('every segment and the run registry damaged: all moved aside, a fresh log, seq continues', async () => {
    const dir = tempDir();
    await fillStore(dir);
    for (const name of segmentFiles(dir)) writeFileSync(join(dir, name), randomBytes(500));
    writeFileSync(join(dir, 'runs.json'), '{not json');
    const { outbox, events } = await open(dir);
    expect(events.length).toBeGreaterThan(1);
    expect(events.every((e) => e.type === 'store-damaged')).toBe(true);
    expect(outbox.stats().records).toBe(0);
    expect(outbox.append('event', { fresh: true }, stamp()).seq).toBe(301);
    expect((await readAll(outbox)).map((r) => r.payload)).toEqual([{ fresh: true }]);
    await outbox.close();
    // At most a few damaged copies are kept, so repeated damage cannot fill the card.
    expect(readdirSync(join(dir, 'damaged')).length).toBeLessThanOrEqual(3);
  });
});

/** A JSON logger whose lines land in `lines`. */
function captureLogger(lines: string[]): Logger {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return createLogger({ level: 'debug', pretty: false, destination });
}

describe('outbox: the list of skipped ranges', () => {
  it('keeps the newest 32, and an unreadable list is replaced without stopping the store', async () => {
    const dir = tempDir();
    await fillStore(dir);
    const listed = Array.from({ length: 40 }, (_, i) => ({ from: 1_000_000 + i * 10, to: 1_000_000 + i * 10 + 5 }));
    writeFileSync(join(dir, SKIPPED_FILE), JSON.stringify({ v: 1, ranges: listed }));
    // A lost seq mark: this open skips a reservation, as after an unclean stop.
    rmSync(join(dir, 'seq.hwm'));
    const { outbox } = await open(dir);
    const ranges = outbox.stats().skippedRanges;
    expect(ranges).toHaveLength(SKIPPED_KEPT);
    expect(ranges.at(-1)).toEqual(outbox.stats().skippedSeqs);
    expect(ranges[0]).toEqual(listed[40 - SKIPPED_KEPT + 1]);
    await outbox.close();

    writeFileSync(join(dir, SKIPPED_FILE), '{"v":1,"ranges":[{"from":"x"}]');
    rmSync(join(dir, 'seq.hwm'));
    const logs: string[] = [];
    const { outbox: reopened } = await open(dir, { logger: captureLogger(logs) });
    expect(reopened.stats().skippedRanges).toEqual([reopened.stats().skippedSeqs]);
    expect(logs.join('\n')).toMatch(/skipped seq ranges unreadable/);
    expect(reopened.append('event', {}, stamp()).seq).toBeGreaterThan(300);
    await reopened.close();
  });
});
