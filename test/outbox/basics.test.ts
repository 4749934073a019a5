import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, open, readAll, removeTempDirs, segmentFiles, stamp, tempDir } from './helpers.js';

afterEach(removeTempDirs);

describe('outbox: append, read, ack, delete', () => {
  it('hands out seqs from 1, reads them back in order with payload and stamps, from memory and from disk', async () => {
    const dir = tempDir();
    // A tiny cache: most of the records are read back from the segment files.
    const { outbox } = await open(dir, { cacheBytes: 2000, segmentBytes: 16 * 1024 });
    const appended = [];
    // Incompressible payloads, so 600 records fill several 16 KiB segments.
    const noise = Array.from({ length: 600 }, () => randomBytes(40).toString('hex'));
    for (let i = 0; i < 600; i++) {
      const stream = i % 10 === 3 ? 'event' : 'telemetry';
      appended.push(outbox.append(stream, { i, text: noise[i] }, stamp(i % 2 === 0, 1_700_000_000_000 + i)));
    }
    expect(appended.map((r) => r.seq)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    await outbox.flush();
    expect(segmentFiles(dir).length).toBeGreaterThan(2);
    const all = await readAll(outbox, 37, 1 << 20);
    expect(all.map((r) => r.seq)).toEqual(appended.map((r) => r.seq));
    for (const [i, r] of all.entries()) {
      expect(r.payload).toEqual({ i, text: noise[i] });
      expect(r.stream).toBe(i % 10 === 3 ? 'event' : 'telemetry');
      expect(r.wallTs).toBe(1_700_000_000_000 + i);
      expect(r.clockSynced).toBe(i % 2 === 0);
      expect(r.monoTs).toBe(appended[i]!.monoTs);
    }
    expect(outbox.stats()).toMatchObject({ records: 600, lastSeq: 600, committedSeq: 600, ackedThrough: 0, oldestSeq: 1 });
    await outbox.close();
  });

  it('respects maxRecords and maxBytes, but always returns at least one record', async () => {
    const { outbox } = await open(tempDir());
    for (let i = 0; i < 20; i++) outbox.append('telemetry', { blob: 'y'.repeat(100) }, stamp());
    expect((await outbox.read(0, 5, 1 << 20)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    const bytes = JSON.stringify({ blob: 'y'.repeat(100) }).length;
    expect((await outbox.read(0, 100, bytes * 3)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await outbox.read(7, 100, 1)).map((r) => r.seq)).toEqual([8]);
    expect(await outbox.read(20, 100, 1 << 20)).toEqual([]);
    expect(await outbox.read(0, 0, 1 << 20)).toEqual([]);
    await outbox.close();
  });

  it('skips acked records, acks out of order and by ranges, and deletes whole segments only once everything in them is acked', async () => {
    const dir = tempDir();
    const { outbox } = await open(dir, { segmentBytes: 8 * 1024, flushIntervalMs: 20 });
    for (let i = 0; i < 400; i++) outbox.append(i % 50 === 0 ? 'event' : 'telemetry', { i, pad: randomBytes(40).toString('hex') }, stamp());
    await outbox.flush();
    const before = segmentFiles(dir);
    expect(before.length).toBeGreaterThan(3);

    outbox.ack([5, 3, 4, 10]);
    outbox.ack([1, 2]);
    const rest = await readAll(outbox);
    expect(rest.map((r) => r.seq)).not.toContain(3);
    expect(rest[0]!.seq).toBe(6);
    expect(rest.map((r) => r.seq)).not.toContain(10);
    await outbox.flush();
    expect(outbox.stats().ackedThrough).toBe(5);
    expect(outbox.stats().records).toBe(394);
    // No segment is fully acked yet: nothing deleted.
    expect(segmentFiles(dir)).toEqual(before);

    // Ack everything but the last 10 (PUBACKs for many messages, in any order).
    const seqs = Array.from({ length: 390 }, (_, i) => i + 1).reverse();
    outbox.ack(seqs);
    await outbox.flush();
    expect(outbox.stats()).toMatchObject({ ackedThrough: 390, oldestSeq: 391, records: 10 });
    const after = segmentFiles(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(after.length).toBeLessThanOrEqual(2);
    expect((await readAll(outbox)).map((r) => r.seq)).toEqual([391, 392, 393, 394, 395, 396, 397, 398, 399, 400]);

    outbox.ack([391, 392, 393, 394, 395, 396, 397, 398, 399, 400, 401, 9999, -1, 1.5]);
    await outbox.flush();
    expect(outbox.stats()).toMatchObject({ ackedThrough: 400, oldestSeq: null, records: 0 });
    expect(await readAll(outbox)).toEqual([]);
    await outbox.close();
  });

  it('keeps seq order across memory and disk while records are written during a read (no record twice, none missed)', async () => {
    const { outbox } = await open(tempDir(), { cacheBytes: 500, flushIntervalMs: 5 });
    const seen: number[] = [];
    let after = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 7; i++) outbox.append(round % 9 === 0 && i === 0 ? 'event' : 'telemetry', { round, i }, stamp());
      const records = await outbox.read(after, 5, 1 << 20);
      for (const r of records) seen.push(r.seq);
      if (records.length > 0) after = records[records.length - 1]!.seq;
      if (round % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (;;) {
      const records = await outbox.read(after, 50, 1 << 20);
      if (records.length === 0) break;
      for (const r of records) seen.push(r.seq);
      after = records[records.length - 1]!.seq;
    }
    expect(seen).toEqual(Array.from({ length: 1400 }, (_, i) => i + 1));
    await outbox.close();
  });

  it('onAppend fires synchronously with the record as appended, and unsubscribes', async () => {
    const { outbox } = await open(tempDir());
    const got: number[] = [];
    const off = outbox.onAppend((r) => got.push(r.seq));
    const r1 = outbox.append('telemetry', { a: 1 }, stamp());
    expect(got).toEqual([r1.seq]);
    outbox.onAppend(() => {
      throw new Error('a broken listener');
    });
    const r2 = outbox.append('event', { a: 2 }, stamp());
    expect(got).toEqual([r1.seq, r2.seq]);
    off();
    outbox.append('telemetry', { a: 3 }, stamp());
    expect(got).toEqual([r1.seq, r2.seq]);
    await outbox.close();
  });

  it('keeps what was appended, not what the caller did to its object afterwards', async () => {
    const { outbox } = await open(tempDir());
    const payload = { value: 1 };
    const record = outbox.append('telemetry', payload, stamp());
    payload.value = 2;
    expect((await outbox.read(0, 10, 1 << 20))[0]!.payload).toEqual({ value: 1 });
    expect(record.seq).toBe(1);
    expect(() => outbox.append('telemetry', undefined, stamp())).toThrow(/JSON/);
    expect(() => outbox.append('telemetry', { n: 1n }, stamp())).toThrow();
    expect(outbox.stats().lastSeq).toBe(1);
    await outbox.close();
  });
});

describe('outbox: restart', () => {
  it('keeps seq, unacked records and persisted acks across a clean restart, without a seq gap', async () => {
    const dir = tempDir();
    const first = await open(dir, { flushIntervalMs: 20 });
    for (let i = 0; i < 100; i++) first.outbox.append(i % 10 === 0 ? 'event' : 'telemetry', { i }, stamp());
    first.outbox.ack(Array.from({ length: 40 }, (_, i) => i + 1));
    first.outbox.ack([50, 51, 52]);
    await first.outbox.close();

    const second = await open(dir);
    expect(second.outbox.stats()).toMatchObject({ lastSeq: 100, ackedThrough: 40, records: 57, skippedSeqs: null, damagedStoresMovedAside: 0 });
    const rest = await readAll(second.outbox);
    expect(rest.map((r) => r.seq)).toEqual([...Array.from({ length: 9 }, (_, i) => 41 + i), ...Array.from({ length: 48 }, (_, i) => 53 + i)]);
    expect(rest.map((r) => (r.payload as { i: number }).i)).toEqual(rest.map((r) => r.seq - 1));
    expect(second.outbox.append('telemetry', { next: true }, stamp()).seq).toBe(101);
    await second.outbox.close();
    expect(second.events).toEqual([]);

    const third = await open(dir);
    expect(third.outbox.stats().lastSeq).toBe(101);
    expect((await readAll(third.outbox)).at(-1)!.payload).toEqual({ next: true });
    await third.outbox.close();
  });

  it('keeps a state record written past the preallocated end of the tail when the tail is extended again', async () => {
    const dir = tempDir();
    // Segments larger than one preallocation step (1 MiB), so the tail is extended inside a segment; no tick.
    const options = { maxBytes: 64 * 1024 * 1024, segmentBytes: 8 * 1024 * 1024, flushIntervalMs: 3_600_000 };
    const { outbox } = await open(dir, options);
    const tailFile = (): string => join(dir, segmentFiles(dir).at(-1)!);
    const MiB = 1024 * 1024;
    const unacked: number[] = [];
    // Every other record acked: hundreds of ack ranges make each state record a few KiB, so one of them comes to
    // straddle the end of the preallocated MiB (a data block would be preallocated for first).
    let straddled = false;
    for (let i = 0; i < 2000 && !straddled; i++) {
      const seqs = Array.from({ length: 4 }, (_, j) => outbox.append('telemetry', { i, j }, stamp()).seq);
      outbox.ack([seqs[1]!, seqs[3]!]);
      unacked.push(seqs[0]!, seqs[2]!);
      await outbox.flush();
      straddled = statSync(tailFile()).size % MiB !== 0;
    }
    expect(straddled).toBe(true);
    // The next commit extends the tail again: its zeros must go after that state record, not over it.
    for (let i = 0; i < 10; i++) unacked.push(outbox.append('telemetry', { after: i }, stamp()).seq);
    await outbox.flush();
    await outbox.close();

    const reopened = await open(dir, options);
    const kept = new Set((await readAll(reopened.outbox)).map((r) => r.seq));
    expect(unacked.filter((seq) => !kept.has(seq))).toEqual([]);
    expect(reopened.events).toEqual([]);
    await reopened.outbox.close();
  });

  it('continues seq above everything when all records were acked and deleted (the seq mark, not the log, holds it)', async () => {
    const dir = tempDir();
    const first = await open(dir, { segmentBytes: 4096 });
    for (let i = 0; i < 300; i++) first.outbox.append('telemetry', { i, pad: 'z'.repeat(30) }, stamp());
    first.outbox.ack(Array.from({ length: 300 }, (_, i) => i + 1));
    await first.outbox.close();
    const second = await open(dir);
    expect(second.outbox.stats()).toMatchObject({ lastSeq: 300, records: 0, ackedThrough: 300 });
    expect(second.outbox.append('event', { e: 1 }, stamp()).seq).toBe(301);
    await second.outbox.close();
    expect(existsSync(join(dir, 'seq.hwm'))).toBe(true);
  });
});
