import { describe, expect, it } from 'vitest';
import { crc32, crc32Js } from '../../agent/outbox/crc32.js';
import { decodeFrame, encodeBlockFrame, encodeDataBody, frameOf, unpackBlock } from '../../agent/outbox/format.js';
import { RangeSet } from '../../agent/outbox/range-set.js';

describe('outbox format', () => {
  it('crc32 matches the IEEE check value, native or not', () => {
    const check = Buffer.from('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Js(check)).toBe(0xcbf43926);
    expect(crc32Js(check.subarray(4), crc32Js(check.subarray(0, 4)))).toBe(0xcbf43926);
  });

  it('a frame with any single bit flipped does not decode', () => {
    const frame = frameOf(encodeDataBody({ seq: 7, stream: 'event', wallTs: 1, monoTs: 2, clockSynced: true, json: '{"a":1}' }));
    expect(decodeFrame(frame, 0)).toMatchObject({ kind: 'data', seq: 7, stream: 'event' });
    for (let bit = 0; bit < frame.length * 8; bit++) {
      const copy = Buffer.from(frame);
      copy[bit >> 3] = copy[bit >> 3]! ^ (1 << (bit & 7));
      expect(['invalid', 'incomplete']).toContain(decodeFrame(copy, 0).kind);
    }
    expect(decodeFrame(frame.subarray(0, frame.length - 1), 0).kind).toBe('incomplete');
  });

  it('a block packs telemetry records and unpacks them in order', () => {
    const bodies = [3, 4, 6].map((seq) => ({ seq, body: encodeDataBody({ seq, stream: 'telemetry', wallTs: seq, monoTs: seq, clockSynced: false, json: JSON.stringify({ seq }) }) }));
    const frame = encodeBlockFrame(bodies);
    const block = decodeFrame(frame, 0);
    expect(block).toMatchObject({ kind: 'block', count: 3, firstSeq: 3, lastSeq: 6 });
    if (block.kind !== 'block') throw new Error('not a block');
    const unpacked = unpackBlock(frame, block)!;
    expect(unpacked.records.map((r) => [r.seq, JSON.parse(unpacked.raw.toString('utf8', r.jsonStart, r.jsonEnd))])).toEqual([
      [3, { seq: 3 }],
      [4, { seq: 4 }],
      [6, { seq: 6 }],
    ]);
  });
});

describe('RangeSet', () => {
  it('merges, removes, counts and finds the first member missing from another set', () => {
    const set = new RangeSet();
    set.addAll([5, 1, 2, 3, 9, 10, 4]);
    expect(set.toArray()).toEqual([
      [1, 5],
      [9, 10],
    ]);
    set.addRange(6, 8);
    expect(set.toArray()).toEqual([[1, 10]]);
    set.removeRange(4, 5);
    expect(set.toArray()).toEqual([
      [1, 3],
      [6, 10],
    ]);
    expect(set.size()).toBe(8);
    expect(set.countThrough(7)).toBe(5);
    const other = RangeSet.of([
      [1, 2],
      [6, 6],
    ]);
    expect(set.firstNotIn(other)).toBe(3);
    expect(set.firstNotIn(other, 3)).toBe(7);
    expect(set.intersectionSize(other)).toBe(3);
    set.removeThrough(7);
    expect(set.toArray()).toEqual([[8, 10]]);
    expect(set.has(8)).toBe(true);
    expect(set.has(7)).toBe(false);
  });
});
