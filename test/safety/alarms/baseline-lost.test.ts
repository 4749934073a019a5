import { describe, expect, it } from 'vitest';
import { parseAlarmSnapshot, type AlarmSnapshot } from '../../../agent/safety/alarms/index.js';
import { Harness, siteWith } from './harness.js';

const MINUTE = 60_000;

/** Two gauges, each taking its baseline from its first good reading. */
const gauges = (extra: string[] = []) =>
  siteWith([
    {
      device: 'crack-1',
      interval: '1m',
      channels: ['w7.crack1', 'w7.crack2', ...extra].map((id) => ({
        id,
        register: 'displacement',
        unit: 'mm',
        crack: { cumulative: { blue: 2, yellow: 5, orange: 10, red: 20 } },
      })),
    },
  ]);

function beforeRestart(): AlarmSnapshot {
  const h = new Harness(gauges());
  h.read('w7.crack1', 10);
  h.read('w7.crack2', 50);
  h.advance(MINUTE);
  h.read('w7.crack1', 13); // blue
  return JSON.parse(JSON.stringify(h.engine.snapshot())) as AlarmSnapshot;
}

describe('a first-reading baseline lost across a restart is never silently re-zeroed', () => {
  it('the snapshot lists the channels that had a baseline', () => {
    expect(beforeRestart().baselined).toEqual(['w7.crack1', 'w7.crack2']);
  });

  it('a damaged entry: that gauge goes to fault "baseline lost: set it again"; the other keeps its baseline', () => {
    const saved = beforeRestart() as unknown as { channels: Record<string, unknown> };
    saved.channels['w7.crack1'] = { baseline: { value: 'ten', source: 'first-reading' } };
    const parsed = parseAlarmSnapshot(saved);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.problems).toEqual([expect.stringContaining('channels.w7.crack1.baseline.value')]);

    const after = new Harness(gauges(), { restore: parsed.snapshot });
    expect(after.status('w7.crack1')).toMatchObject({ fault: true, faultReason: 'baseline lost: set it again' });
    expect(after.status('w7.crack1').baseline).toBeUndefined();
    expect(after.of('fault').map((e) => e.rule)).toEqual(['w7.crack1 in fault: baseline lost: set it again']);
    expect(after.status('w7.crack2')).toMatchObject({ fault: false, baseline: 50 });

    // Good readings do not take a new baseline nor end the fault.
    after.read('w7.crack1', 30);
    after.advance(MINUTE);
    after.read('w7.crack1', 31);
    expect(after.status('w7.crack1')).toMatchObject({ fault: true, faultReason: 'baseline lost: set it again' });
    expect(after.status('w7.crack1').baseline).toBeUndefined();
    expect(after.of('baseline-set')).toEqual([]);
    expect(after.of('fault-cleared')).toEqual([]);
    // Nor does a failure turn it into a fault the next good reading would end.
    after.read('w7.crack1', null, { quality: 'bad', reason: 'sensor-lost' });
    after.read('w7.crack1', 31);
    expect(after.status('w7.crack1')).toMatchObject({ fault: true, faultReason: 'baseline lost: set it again' });

    // A later snapshot still marks it, so a second restart does not re-zero it either.
    const again = new Harness(gauges(), { restore: after.engine.snapshot() });
    expect(again.status('w7.crack1')).toMatchObject({ fault: true, faultReason: 'baseline lost: set it again' });

    // Only a command ends it.
    expect(after.engine.setBaseline('w7.crack1', 'op')).toEqual({ ok: true, baseline: 31 });
    expect(after.status('w7.crack1')).toMatchObject({ fault: false, baseline: 31 });
    expect(after.of('fault-cleared')).toHaveLength(1);
  });

  it('an entry missing from a snapshot that lists the channel is lost too', () => {
    const saved = beforeRestart();
    delete saved.channels['w7.crack2'];
    const after = new Harness(gauges(), { restore: saved });
    expect(after.status('w7.crack2')).toMatchObject({ fault: true, faultReason: 'baseline lost: set it again' });
    expect(after.engine.setBaseline('w7.crack2', 'op', 50)).toEqual({ ok: true, baseline: 50 });
    expect(after.status('w7.crack2')).toMatchObject({ fault: false, baseline: 50 });
  });

  it('a gauge just added to the site (not listed) and a first start (no snapshot) take their first reading', () => {
    const after = new Harness(gauges(['w7.crack3']), { restore: beforeRestart() });
    after.read('w7.crack3', 7);
    expect(after.status('w7.crack3')).toMatchObject({ fault: false, baseline: 7 });

    const fresh = new Harness(gauges());
    fresh.read('w7.crack1', 7);
    expect(fresh.status('w7.crack1')).toMatchObject({ fault: false, baseline: 7 });
    expect(fresh.of('fault')).toEqual([]);
  });
});
