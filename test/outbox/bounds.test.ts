import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEQ_RESERVE, type OutboxRecord } from '../../agent/outbox/index.js';
import { eventually, open, readAll, removeTempDirs, stamp, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const noise = (): string => randomBytes(50).toString('hex');

function split(records: readonly OutboxRecord[]): { telemetry: number[]; events: number[] } {
  return {
    telemetry: records.filter((r) => r.stream === 'telemetry').map((r) => r.seq),
    events: records.filter((r) => r.stream === 'event').map((r) => r.seq),
  };
}

describe('outbox: byte bound and drop policy', () => {
  it('over the bound, drops the oldest telemetry first and keeps every event', async () => {
    const maxBytes = 96 * 1024;
    const { outbox, events } = await open(tempDir(), { maxBytes, segmentBytes: 8 * 1024 });
    const appended = { telemetry: [] as number[], events: [] as number[] };
    for (let i = 0; i < 3000; i++) {
      const stream = i % 25 === 0 ? 'event' : 'telemetry';
      const r = outbox.append(stream, { i, noise: noise() }, stamp());
      (stream === 'event' ? appended.events : appended.telemetry).push(r.seq);
      if (i % 40 === 0) await outbox.flush();
    }
    await outbox.flush();
    const stats = outbox.stats();
    expect(stats.dropped.event).toBe(0);
    expect(stats.dropped.telemetry).toBeGreaterThan(1000);
    expect(stats.bytes).toBeLessThanOrEqual(maxBytes + 8 * 1024);
    const left = split(await readAll(outbox));
    expect(left.events).toEqual(appended.events);
    // What is left of the telemetry is the newest: a suffix of what was appended.
    expect(left.telemetry).toEqual(appended.telemetry.slice(appended.telemetry.length - left.telemetry.length));
    expect(left.telemetry.length + stats.dropped.telemetry).toBe(appended.telemetry.length);
    expect(stats.records).toBe(left.telemetry.length + left.events.length);
    expect(events.some((e) => e.type === 'dropped' && /telemetry/.test(e.detail))).toBe(true);
    await outbox.close();
  });

  it('drops events only when no telemetry is left, oldest first, and counts them', async () => {
    const { outbox } = await open(tempDir(), { maxBytes: 48 * 1024, segmentBytes: 8 * 1024 });
    for (let i = 0; i < 50; i++) outbox.append('telemetry', { i, noise: noise() }, stamp());
    const eventSeqs: number[] = [];
    for (let i = 0; i < 1500; i++) eventSeqs.push(outbox.append('event', { i, noise: noise() }, stamp()).seq);
    await outbox.flush();
    const stats = outbox.stats();
    expect(stats.dropped.telemetry).toBe(50);
    expect(stats.dropped.event).toBeGreaterThan(0);
    const left = split(await readAll(outbox));
    expect(left.telemetry).toEqual([]);
    expect(left.events).toEqual(eventSeqs.slice(eventSeqs.length - left.events.length));
    expect(left.events.length + stats.dropped.event).toBe(1500);
    await outbox.close();
  });

  it('drop counters survive a restart', async () => {
    const dir = tempDir();
    const first = await open(dir, { maxBytes: 48 * 1024, segmentBytes: 8 * 1024 });
    for (let i = 0; i < 2000; i++) {
      first.outbox.append('telemetry', { noise: noise() }, stamp());
      if (i % 100 === 0) await first.outbox.flush();
    }
    await first.outbox.close();
    const dropped = first.outbox.stats().dropped;
    expect(dropped.telemetry).toBeGreaterThan(0);
    // Reopened with room to spare, so the open itself drops nothing more.
    const second = await open(dir, { maxBytes: 1024 * 1024, segmentBytes: 8 * 1024 });
    expect(second.outbox.stats().dropped).toEqual(dropped);
    await second.outbox.close();
  });
});

describe('outbox: the caller never waits on the disk', () => {
  it('appends, onAppend and reads work while every sync is stalled; the commit follows once the disk answers', async () => {
    const control = new SharedArrayBuffer(8);
    const flags = new Int32Array(control);
    const { outbox } = await open(tempDir(), { testHooks: { control } });
    Atomics.store(flags, 0, 1);
    const seen: number[] = [];
    outbox.onAppend((r) => seen.push(r.seq));
    for (let i = 0; i < 1000; i++) outbox.append(i % 100 === 0 ? 'event' : 'telemetry', { i }, stamp());
    expect(seen).toHaveLength(1000);
    expect((await readAll(outbox)).map((r) => r.seq)).toEqual(seen);
    expect(outbox.stats().committedSeq).toBe(0);
    Atomics.store(flags, 0, 0);
    Atomics.notify(flags, 0);
    await outbox.flush();
    expect(outbox.stats().committedSeq).toBe(1000);
    await outbox.close();
  });

  it('commits an event at once, telemetry only at the group commit', async () => {
    const { outbox } = await open(tempDir(), { flushIntervalMs: 3_600_000 });
    outbox.append('telemetry', { t: 1 }, stamp());
    outbox.append('telemetry', { t: 2 }, stamp());
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(outbox.stats().committedSeq).toBe(0);
    const event = outbox.append('event', { alarm: 'H2S L2' }, stamp());
    await eventually(() => outbox.stats().committedSeq >= event.seq, 'the event is committed without flush()');
    expect(outbox.stats().committedSeq).toBe(3);
    await outbox.close();
  });

  it('commits telemetry alone by the next group commit, without flush(), and acks alone too', async () => {
    const dir = tempDir();
    const { outbox } = await open(dir, { flushIntervalMs: 100 });
    const first = outbox.append('telemetry', { t: 1 }, stamp());
    await eventually(() => outbox.stats().committedSeq >= first.seq, 'telemetry committed by the group commit');
    const second = outbox.append('telemetry', { t: 2 }, stamp());
    await eventually(() => outbox.stats().committedSeq >= second.seq, 'later telemetry committed too');
    outbox.ack([first.seq]);
    await eventually(() => outbox.stats().ackedThrough >= first.seq, 'the ack reached the writer without flush()');
    await outbox.close();
    const again = await open(dir);
    expect((await readAll(again.outbox)).map((r) => r.seq)).toEqual([second.seq]);
    await again.outbox.close();
  });
});

describe('outbox: disk full', () => {
  it('keeps appending into bounded memory, drops oldest telemetry there, and writes everything kept once space returns', async () => {
    const control = new SharedArrayBuffer(8);
    const flags = new Int32Array(control);
    const dir = tempDir();
    const { outbox, events } = await open(dir, { testHooks: { control }, memoryBytes: 20_000, flushIntervalMs: 20 });
    outbox.append('telemetry', { before: true }, stamp());
    await outbox.flush();
    expect(outbox.stats().committedSeq).toBe(1);

    Atomics.store(flags, 1, 1);
    const appended: OutboxRecord[] = [];
    for (let i = 0; i < 500; i++) appended.push(outbox.append(i % 20 === 0 ? 'event' : 'telemetry', { i, pad: 'q'.repeat(80) }, stamp()));
    await outbox.flush();
    expect(outbox.stats().diskFull).toBe(true);
    expect(events.some((e) => e.type === 'disk-full')).toBe(true);
    await eventually(() => outbox.stats().dropped.telemetry > 0, 'telemetry dropped from memory');
    const stats = outbox.stats();
    expect(stats.dropped.event).toBe(0);
    expect(stats.committedSeq).toBe(1);
    const held = await readAll(outbox);
    const heldSeqs = held.map((r) => r.seq);
    // Every event is still there, and the oldest telemetry went first.
    for (const r of appended.filter((a) => a.stream === 'event')) expect(heldSeqs).toContain(r.seq);
    const telemetryHeld = held.filter((r) => r.stream === 'telemetry' && r.seq > 1).map((r) => r.seq);
    const telemetryAll = appended.filter((a) => a.stream === 'telemetry').map((a) => a.seq);
    expect(telemetryHeld).toEqual(telemetryAll.slice(telemetryAll.length - telemetryHeld.length));

    Atomics.store(flags, 1, 0);
    await eventually(() => !outbox.stats().diskFull, 'the disk is writable again');
    expect(events.some((e) => e.type === 'disk-ok')).toBe(true);
    await outbox.flush();
    expect(outbox.stats().committedSeq).toBe(501);
    await outbox.close();
    const again = await open(dir);
    expect((await readAll(again.outbox)).map((r) => r.seq)).toEqual(heldSeqs);
    await again.outbox.close();
  });

  it('a store that cannot be opened at all still gives a working outbox, in memory only, and says so', async () => {
    const notADir = join(tempDir(), 'outbox');
    writeFileSync(notADir, 'a file where the folder should be');
    const { outbox, events } = await open(notADir, { memoryBytes: 5_000 });
    expect(events.map((e) => e.type)).toEqual(['writer-failed']);
    const first = outbox.append('event', { alarm: true }, stamp());
    // Nothing to continue from: seq starts from the wall clock in ms, above any seq a store could have reached.
    expect(first.seq).toBeGreaterThan(Date.now() - 60_000);
    for (let i = 0; i < 200; i++) outbox.append('telemetry', { i, pad: 'w'.repeat(50) }, stamp());
    await outbox.flush();
    const held = await readAll(outbox);
    expect(held[0]!.seq).toBe(first.seq);
    expect(outbox.stats().dropped.telemetry).toBeGreaterThan(0);
    expect(outbox.stats().dropped.event).toBe(0);
    expect(outbox.stats().writeError).toMatch(/ENOTDIR|EEXIST|not a directory/i);
    outbox.ack(held.map((r) => r.seq));
    expect(await readAll(outbox)).toEqual([]);
    await outbox.close();
  });

  const canMount = ((): boolean => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
    const probe = join(tempDir('vigil-mount-probe-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
      execFileSync('umount', [probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!canMount)('on a read-only file system: memory only, and two such runs in a row never reuse a seq', async () => {
    const mountPoint = tempDir('vigil-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    try {
      const dir = join(mountPoint, 'outbox');
      const first = await open(dir);
      for (let i = 0; i < 5; i++) first.outbox.append('telemetry', { i }, stamp());
      await first.outbox.close();
      execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
      const { outbox, events } = await open(dir);
      expect(events.map((e) => e.type)).toContain('writer-failed');
      const firstRun = [outbox.append('event', { e: 1 }, stamp()).seq];
      for (let i = 0; i < 20; i++) firstRun.push(outbox.append('telemetry', { i }, stamp()).seq);
      expect(firstRun[0]).toBeGreaterThan(5 + SEQ_RESERVE);
      // No clean close to write a mark (none can be written): the next run starts as after a kill.
      await outbox.close();
      const second = await open(dir);
      expect(second.outbox.append('event', { e: 2 }, stamp()).seq).toBeGreaterThan(firstRun[firstRun.length - 1]!);
      await second.outbox.close();
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  it.skipIf(!canMount)('a tail whose zeros found no room keeps its committed frames when zeros are written after them (a nearly full tmpfs)', async () => {
    const mountPoint = tempDir('vigil-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint]);
    try {
      const dir = join(mountPoint, 'outbox');
      // No group-commit tick: each flush() is one commit.
      const options = { segmentBytes: 64 * 1024, flushIntervalMs: 3_600_000 };
      const first = await open(dir, options);
      first.outbox.append('event', { before: true }, stamp());
      await first.outbox.close();
      // Fill the file system, then give back four pages: too few for the new tail's zeros, enough for its records.
      const filler = join(mountPoint, 'filler');
      for (;;) {
        try {
          writeFileSync(filler, Buffer.alloc(4096), { flag: 'a' });
        } catch {
          break;
        }
      }
      truncateSync(filler, statSync(filler).size - 4 * 4096);
      const { outbox } = await open(dir, options);
      const committed: number[] = [];
      for (let commit = 0; commit < 3; commit++) {
        for (let i = 0; i < 5; i++) committed.push(outbox.append('telemetry', { commit, i }, stamp()).seq);
        await outbox.flush();
        expect(outbox.stats().committedSeq).toBe(committed[committed.length - 1]);
      }
      await outbox.close();
      rmSync(filler);
      const reopened = await open(dir, options);
      const kept = (await readAll(reopened.outbox)).map((r) => r.seq);
      expect(committed.filter((seq) => !kept.includes(seq))).toEqual([]);
      expect(reopened.events.filter((e) => e.type === 'store-damaged')).toEqual([]);
      await reopened.outbox.close();
    } finally {
      // Lazy: an outbox left open by a failed expectation must not hide that failure behind EBUSY.
      execFileSync('umount', ['-l', mountPoint]);
    }
  });

  it.skipIf(!canMount)('on a real full file system (a tiny tmpfs): ENOSPC, appends go on, recovery when space returns', async () => {
    const mountPoint = tempDir('vigil-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint]);
    try {
      const dir = join(mountPoint, 'outbox');
      mkdirSync(dir);
      const { outbox, events } = await open(dir, { maxBytes: 64 * 1024 * 1024, segmentBytes: 64 * 1024, memoryBytes: 30_000, flushIntervalMs: 20 });
      // Fill the rest of the file system.
      const filler = join(mountPoint, 'filler');
      let size = 0;
      for (;;) {
        try {
          writeFileSync(filler, Buffer.alloc(4096), { flag: 'a' });
          size += 4096;
        } catch {
          break;
        }
      }
      expect(size).toBeGreaterThan(0);
      const events0 = events.length;
      const eventSeqs: number[] = [];
      for (let i = 0; i < 3000 && !outbox.stats().diskFull; i++) {
        const r = outbox.append(i % 50 === 0 ? 'event' : 'telemetry', { i, noise: noise() }, stamp());
        if (r.stream === 'event') eventSeqs.push(r.seq);
        if (i % 100 === 0) await outbox.flush();
      }
      await outbox.flush();
      expect(outbox.stats().diskFull).toBe(true);
      expect(events.slice(events0).map((e) => e.type)).toContain('disk-full');
      for (let i = 0; i < 500; i++) {
        const r = outbox.append(i % 50 === 0 ? 'event' : 'telemetry', { i, noise: noise() }, stamp());
        if (r.stream === 'event') eventSeqs.push(r.seq);
      }
      await outbox.flush();
      expect(outbox.stats().dropped.telemetry).toBeGreaterThan(0);
      expect(outbox.stats().dropped.event).toBe(0);
      rmSync(filler);
      await eventually(() => !outbox.stats().diskFull, 'recovered after space returned');
      await outbox.flush();
      expect(outbox.stats().committedSeq).toBe(outbox.stats().lastSeq);
      const kept = (await readAll(outbox)).map((r) => r.seq);
      for (const seq of eventSeqs) expect(kept).toContain(seq);
      await outbox.close();
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });
});
