import { afterEach, describe, expect, it } from 'vitest';
import type { Outbox } from '../../agent/outbox/index.js';
import { eventually, open, readAll, removeTempDirs, stamp, tempDir } from './helpers.js';

afterEach(removeTempDirs);

const Y2000 = Date.UTC(2000, 0, 1);
const TEN_YEARS = Date.UTC(2010, 0, 1) - Y2000;

describe('outbox: wall clock corrections', () => {
  it('corrects the unsynced records appended before the correction, keeps the rest as they were, and persists it', async () => {
    const dir = tempDir();
    const { outbox } = await open(dir);
    const a = [1, 2, 3].map((i) => outbox.append('telemetry', { a: i }, stamp(false, Y2000 + i)));
    const synced = outbox.append('event', { synced: true }, stamp(true, Y2000 + TEN_YEARS + 5));
    const c = outbox.append('telemetry', { c: 1 }, stamp(false, Y2000 + 9));
    outbox.correctClock(TEN_YEARS);
    const later = outbox.append('telemetry', { later: 1 }, stamp(false, Y2000 + TEN_YEARS + 20));

    const check = async (reader: Outbox): Promise<void> => {
      const byseq = new Map((await readAll(reader)).map((r) => [r.seq, r]));
      for (const r of [...a, c]) {
        expect(byseq.get(r.seq)!.wallTs).toBe(r.wallTs);
        expect(byseq.get(r.seq)!.correctedWallTs).toBe(r.wallTs + TEN_YEARS);
      }
      expect(byseq.get(synced.seq)!.correctedWallTs).toBeUndefined();
      expect(byseq.get(later.seq)!.correctedWallTs).toBeUndefined();
    };
    await check(outbox);
    await outbox.close();
    const reopened = (await open(dir)).outbox;
    await check(reopened);
    await reopened.close();
  });

  it('carries a correction to earlier runs of the same kernel boot that ended before the clock was set', async () => {
    const dir = tempDir();
    const first = await open(dir);
    const early = first.outbox.append('telemetry', { run: 1 }, stamp(false, Y2000 + 1));
    await first.outbox.close();
    const second = await open(dir);
    const mine = second.outbox.append('telemetry', { run: 2 }, stamp(false, Y2000 + 2));
    second.outbox.correctClock(TEN_YEARS);
    await second.outbox.flush();
    const records = await readAll(second.outbox);
    expect(records.map((r) => [r.seq, r.correctedWallTs])).toEqual([
      [early.seq, Y2000 + 1 + TEN_YEARS],
      [mine.seq, Y2000 + 2 + TEN_YEARS],
    ]);
    await second.outbox.close();
  });
});

describe('outbox: nothing is ordered or expired by wall clock', () => {
  it('keeps seq order whatever the wall times, and an age bound ignores them', async () => {
    const { outbox } = await open(tempDir(), { maxAgeMs: 60_000, flushIntervalMs: 10, segmentBytes: 4096 });
    const walls = [Y2000, Date.now() + TEN_YEARS, Y2000 - TEN_YEARS, 0, Date.now()];
    for (let round = 0; round < 40; round++) {
      for (const wall of walls) outbox.append('telemetry', { round, wall }, stamp(false, wall));
      await outbox.flush();
    }
    // Many group commits and age checks later, nothing went.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await outbox.flush();
    const records = await readAll(outbox);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(outbox.stats().dropped).toEqual({ telemetry: 0, event: 0 });
    await outbox.close();
  });

  it('expires telemetry (never events) by the store clock, which only runs while the store is open', async () => {
    const { outbox, events } = await open(tempDir(), { maxAgeMs: 300, flushIntervalMs: 10, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 30; i++) {
      // Stamped "now" and synced: wall time says fresh; only the store clock can say old.
      outbox.append(i % 10 === 0 ? 'event' : 'telemetry', { i }, stamp(true, Date.now() + TEN_YEARS));
      await outbox.flush();
    }
    await eventually(() => outbox.stats().dropped.telemetry === 27, 'all telemetry expired');
    expect(outbox.stats().dropped.event).toBe(0);
    expect((await readAll(outbox)).map((r) => r.seq)).toEqual([1, 11, 21]);
    expect(events.some((e) => e.type === 'dropped' && /store running time/.test(e.detail))).toBe(true);
    await outbox.close();
  });
});
