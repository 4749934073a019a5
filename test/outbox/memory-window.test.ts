import { describe, expect, it } from 'vitest';
import { MemoryWindow, type MemEntry } from '../../agent/outbox/memory.js';

function entry(seq: number): MemEntry {
  return { seq, stream: 'telemetry', json: JSON.stringify({ seq, pad: 'x'.repeat(80) }), wallTs: 1_700_000_000_000 + seq, monoTs: seq, clockSynced: true };
}

describe('outbox memory window: the cache of written records', () => {
  it('in a long outage (nothing acked) holds its budget, and little more than its live entries', () => {
    const window = new MemoryWindow();
    const budgetChars = 100_000;
    const notAcked = (): boolean => false;
    let worst = 0;
    for (let seq = 1; seq <= 50_000; seq++) {
      window.push(entry(seq));
      // The writer reports progress now and then; everything appended so far is written.
      if (seq % 25 === 0) {
        window.evict(seq, budgetChars, notAcked);
        expect(window.chars).toBeLessThanOrEqual(budgetChars);
        worst = Math.max(worst, window.retained - window.length);
      }
    }
    // Evicted entries still referenced while they wait for compaction: bounded by a quarter of the array or 1,024.
    expect(window.length).toBeGreaterThan(900);
    expect(worst).toBeLessThanOrEqual(Math.max(1024, Math.ceil(window.length / 3)) + 25);
  });

  it('keeps every entry not yet written, whatever the budget', () => {
    const window = new MemoryWindow();
    for (let seq = 1; seq <= 3000; seq++) window.push(entry(seq));
    window.evict(1000, 10, () => false);
    expect(window.firstSeq()).toBe(1001);
    expect(window.length).toBe(2000);
  });
});
