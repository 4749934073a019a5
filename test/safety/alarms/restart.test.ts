import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../agent/clock/index.js';
import { parseAlarmSnapshot, type AlarmSnapshot } from '../../../agent/safety/alarms/index.js';
import { Harness, siteWith } from './harness.js';

const SECOND = 1000;

const tank = () =>
  siteWith([
    { device: 'tank1-ch4', channels: [{ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4' } }] },
    { device: 'tank1-h2s', channels: [{ id: 'tank1.h2s', register: 'c', unit: 'ppm', alarm: { gas: 'h2s' } }] },
  ]);

/** Through JSON and back, as the state store does it, then checked as a file read from disk would be. */
function afterRestart(snapshot: AlarmSnapshot): AlarmSnapshot {
  const parsed = parseAlarmSnapshot(JSON.parse(JSON.stringify(snapshot)));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.snapshot;
}

describe('restart in the middle of an alarm', () => {
  it('a latched L2 comes back latched and unacknowledged; L1 with it; non-latched L1 elsewhere re-derives', () => {
    const before = new Harness(tank());
    before.poll('tank1.ch4', 10, SECOND, () => 60);
    before.poll('tank1.h2s', 10, SECOND, () => 8); // L1 only: not latched
    expect(before.status('tank1.h2s').level).toBe('L1');

    const snapshot = afterRestart(before.engine.snapshot());
    expect(Object.keys(snapshot.channels)).toEqual(['tank1.ch4']);

    const after = new Harness(tank(), { restore: snapshot, clock: new ManualClock({ wallStart: Date.UTC(2026, 0, 2) }) });
    expect(after.status('tank1.ch4')).toMatchObject({ level: 'L2', latched: true, acknowledged: false, value: null });
    expect(after.status('tank1.h2s').level).toBe('normal');
    expect([...after.engine.acceleratedDevices()]).toEqual(['tank1-ch4']);
    expect(after.events).toEqual([]); // a restore is not a new alarm

    // The gas has gone, but nobody acknowledged: it stays latched.
    after.poll('tank1.ch4', 30, SECOND, () => 2);
    expect(after.status('tank1.ch4').level).toBe('L2');
    after.engine.acknowledge('tank1.ch4', 'op');
    expect(after.status('tank1.ch4').level).toBe('normal');
    expect(after.story()).toEqual(['alarm-cleared L2 @2', 'alarm-cleared L1 @2']);
    expect(after.engine.acceleratedDevices().size).toBe(0);
  });

  it('an acknowledged latch comes back acknowledged, and clears with the first good reading below L1', () => {
    const before = new Harness(tank());
    before.poll('tank1.ch4', 10, SECOND, () => 60);
    before.engine.acknowledge('*', 'op');
    const after = new Harness(tank(), { restore: afterRestart(before.engine.snapshot()) });
    expect(after.status('tank1.ch4')).toMatchObject({ level: 'L2', latched: true, acknowledged: true });
    after.read('tank1.ch4', 30);
    expect(after.status('tank1.ch4').level).toBe('L2');
    after.read('tank1.ch4', 10);
    expect(after.status('tank1.ch4').level).toBe('normal');
  });

  it('an over-range latch comes back with overRange, which ends with the first ordinary reading', () => {
    const before = new Harness(tank());
    before.read('tank1.ch4', 100, { reason: 'over-range' });
    const after = new Harness(tank(), { restore: afterRestart(before.engine.snapshot()) });
    expect(after.status('tank1.ch4')).toMatchObject({ level: 'L2', overRange: true, latched: true });
    expect(after.engine.reset('tank1.ch4', 'op').refused[0]!.why).toBe('still over-range');
    after.read('tank1.ch4', 3);
    expect(after.status('tank1.ch4')).toMatchObject({ level: 'L2', overRange: false });
    expect(after.engine.reset('tank1.ch4', 'op').reset).toEqual(['tank1.ch4']);
  });

  it('a damaged channel entry is skipped and reported; the other channels are kept', () => {
    // (This used to refuse the whole snapshot, losing every channel's latches and baselines.)
    const parsed = parseAlarmSnapshot({
      version: 1,
      takenAt: { wallTs: 0, clockSynced: true },
      channels: {
        a: { latched: { levels: [{ level: 'L3', acknowledged: true }], overRange: false } },
        'tank1.ch4': { latched: { levels: [{ level: 'L2', acknowledged: false }], overRange: false } },
      },
    });
    expect(parsed).toMatchObject({ ok: true, problems: [expect.stringContaining('channels.a.latched.levels.0.level')] });
    if (!parsed.ok) throw new Error(parsed.error);
    expect(Object.keys(parsed.snapshot.channels)).toEqual(['tank1.ch4']);
    const after = new Harness(tank(), { restore: parsed.snapshot });
    expect(after.status('tank1.ch4')).toMatchObject({ level: 'L2', latched: true });
  });

  it('a snapshot that is not one at all is refused, with where and why; a damaged takenAt counts the downtime as zero', () => {
    expect(parseAlarmSnapshot('nonsense')).toMatchObject({ ok: false });
    expect(parseAlarmSnapshot({ version: 2, takenAt: { wallTs: 0, clockSynced: true }, channels: {} })).toMatchObject({
      ok: false,
      error: expect.stringContaining('version'),
    });
    const parsed = parseAlarmSnapshot({ version: 1, takenAt: 'yesterday', channels: {} });
    expect(parsed).toMatchObject({ ok: true, snapshot: { takenAt: { wallTs: 0, clockSynced: false } }, problems: [expect.stringContaining('takenAt')] });
  });

  it('an intact snapshot has no problems', () => {
    const before = new Harness(tank());
    before.poll('tank1.ch4', 10, SECOND, () => 60);
    expect(parseAlarmSnapshot(JSON.parse(JSON.stringify(before.engine.snapshot())))).toMatchObject({ ok: true, problems: [] });
  });

  it('snapshot entries of channels no longer in the site are ignored', () => {
    const snapshot: AlarmSnapshot = {
      version: 1,
      takenAt: { wallTs: 0, clockSynced: false },
      channels: { 'tank9.ch4': { latched: { levels: [{ level: 'L2', acknowledged: false }], overRange: false } } },
    };
    const after = new Harness(tank(), { restore: snapshot });
    expect(after.engine.channels().map((c) => c.level)).toEqual(['normal', 'normal']);
  });
});
