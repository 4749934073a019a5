import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCursors, type OutboxCursor } from '../../agent/outbox/index.js';
import { eventually, open, removeTempDirs, stamp, tempDir } from './helpers.js';

afterEach(removeTempDirs);

async function readSeqs(cursor: OutboxCursor, after = 0): Promise<number[]> {
  const seqs: number[] = [];
  for (;;) {
    const records = await cursor.read(after, 7, 1 << 20);
    const last = records[records.length - 1];
    if (!last) return seqs;
    seqs.push(...records.map((r) => r.seq));
    after = last.seq;
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('outbox cursors: several platforms, one outbox', () => {
  it('a record leaves the outbox only when every platform has acknowledged it', async () => {
    const dir = tempDir();
    const { outbox } = await open(dir);
    const cursors = openCursors(outbox, join(dir, 'cursors.json'), ['district', 'national']);
    const district = cursors.cursor('district');
    const national = cursors.cursor('national');
    for (let i = 0; i < 40; i++) outbox.append('telemetry', { i }, stamp());

    district.ack(range(1, 30));
    // The national platform has not acknowledged anything: nothing may be deleted yet.
    expect(outbox.stats().records).toBe(40);
    expect(await readSeqs(district)).toEqual(range(31, 40));
    expect(await readSeqs(national)).toEqual(range(1, 40));

    national.ack(range(1, 10));
    await eventually(() => outbox.stats().records === 30, 'acked by both: deleted');
    expect(outbox.stats().oldestSeq).toBe(11);
    // Out of order is fine, per platform.
    national.ack([25, 24, 23]);
    expect(await readSeqs(national)).toEqual([...range(11, 22), ...range(26, 40)]);
    expect(district.pending()).toBe(10);
    await cursors.close();
    await outbox.close();
  });

  it('keeps each platform\'s position across a restart; a lost cursor file costs repeats, never losses', async () => {
    const dir = tempDir();
    const file = join(dir, 'cursors.json');
    {
      const { outbox } = await open(dir);
      const cursors = openCursors(outbox, file, ['a', 'b']);
      for (let i = 0; i < 20; i++) outbox.append('telemetry', { i }, stamp());
      cursors.cursor('a').ack(range(1, 15));
      cursors.cursor('b').ack(range(1, 5));
      await cursors.close();
      await outbox.close();
    }
    {
      const { outbox } = await open(dir);
      const cursors = openCursors(outbox, file, ['a', 'b', 'c']);
      expect(await readSeqs(cursors.cursor('a'))).toEqual(range(16, 20));
      expect(await readSeqs(cursors.cursor('b'))).toEqual(range(6, 20));
      // A platform added later starts with what the outbox still holds.
      expect(await readSeqs(cursors.cursor('c'))).toEqual(range(6, 20));
      await cursors.close();
      await outbox.close();
    }
    writeFileSync(file, '{ not json');
    {
      const { outbox } = await open(dir);
      const cursors = openCursors(outbox, file, ['a', 'b']);
      expect(await readSeqs(cursors.cursor('a'))).toEqual(range(6, 20));
      await cursors.close();
      await outbox.close();
    }
  });

  it('finds a record far behind long runs the platform already has (an empty answer means only "the end")', async () => {
    const dir = tempDir();
    const { outbox } = await open(dir);
    const cursors = openCursors(outbox, join(dir, 'cursors.json'), ['a', 'b']);
    const a = cursors.cursor('a');
    for (let i = 0; i < 30_000; i++) outbox.append('telemetry', { i }, stamp());
    // Platform a has everything but two records, the second far behind the first.
    a.ack([...range(1, 9), ...range(11, 29_989), ...range(29_991, 30_000)]);
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const records = await a.read(after, 200, 1 << 20);
      const last = records[records.length - 1];
      if (!last) break;
      seen.push(...records.map((r) => r.seq));
      after = last.seq;
    }
    expect(seen).toEqual([10, 29_990]);
    await cursors.close();
    await outbox.close();
  }, 60_000);

  it('skips long runs a platform already has without returning an empty slice early', async () => {
    const dir = tempDir();
    const { outbox } = await open(dir);
    const cursors = openCursors(outbox, join(dir, 'cursors.json'), ['fast', 'slow']);
    for (let i = 0; i < 500; i++) outbox.append('telemetry', { i }, stamp());
    cursors.cursor('fast').ack([...range(1, 300), ...range(302, 499)]);
    expect(await readSeqs(cursors.cursor('fast'))).toEqual([301, 500]);
    expect(() => cursors.cursor('nobody')).toThrow(/no outbox cursor "nobody"/);
    await cursors.close();
    await outbox.close();
  });
});
