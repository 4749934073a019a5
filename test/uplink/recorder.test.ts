import { describe, expect, it } from 'vitest';
import type { Reading } from '../../drivers/reading.js';
import { ReadingStream } from '../../agent/readings/index.js';
import { SafetyEventLog } from '../../agent/safety/index.js';
import { Recorder, type TelemetryPayload } from '../../agent/uplink/index.js';
import { InMemoryOutbox } from './memory-outbox.js';
import { quietLogger } from './helpers.js';

function at(monoTs: number, value: number | null, extra: Partial<Reading> = {}): Reading {
  return {
    channelId: 'rock1.crack',
    deviceId: 'rock1',
    value,
    unit: 'mm',
    quality: value === null ? 'bad' : 'good',
    ...(value === null ? { reason: 'timeout' as const } : {}),
    wallTs: Date.UTC(2026, 0, 1) + monoTs,
    monoTs,
    clockSynced: true,
    ...extra,
  };
}

function recordedValues(outbox: InMemoryOutbox): Array<number | null> {
  return [...(outbox as unknown as { unacked: Map<number, { payload: TelemetryPayload }> }).unacked.values()].map((r) => r.payload.value);
}

describe('recorder: what goes into the outbox', () => {
  it('records the first reading, changes beyond the deadband, and a heartbeat after maxInterval', () => {
    const outbox = new InMemoryOutbox();
    const recorder = new Recorder({ outbox, channels: [{ id: 'rock1.crack', indicator: 'L1_LF_1', policy: { deadband: 0.5, maxIntervalMs: 60_000 } }] });
    recorder.onReadings([at(0, 10)]); // first
    recorder.onReadings([at(1000, 10.4)]); // within deadband
    recorder.onReadings([at(2000, 10.5)]); // exactly the deadband: not beyond
    recorder.onReadings([at(3000, 10.6)]); // beyond
    recorder.onReadings([at(4000, 10.2)]); // 0.4 from 10.6: within
    recorder.onReadings([at(63_000, 10.2)]); // heartbeat: 60 s since the last recorded
    expect(recordedValues(outbox)).toEqual([10, 10.6, 10.2]);
    expect(recorder.stats()).toMatchObject({ readings: 6, recorded: 3, suppressed: 3 });
    const first = outbox.stats().oldestSeq;
    expect(first).toBe(1);
  });

  it('always records quality and reason changes, and carries the indicator code', async () => {
    const outbox = new InMemoryOutbox();
    const recorder = new Recorder({ outbox, channels: [{ id: 'rock1.crack', indicator: 'L1_LF_1', policy: { deadband: 100 } }] });
    recorder.onReadings([at(0, 1), at(10, null), at(20, null), at(30, null, { reason: 'crc' }), at(40, 1), at(50, 1, { quality: 'uncertain', reason: 'warm-up' })]);
    const records = await outbox.read(0, 100, 1e9);
    expect(records.map((r) => [(r.payload as TelemetryPayload).value, (r.payload as TelemetryPayload).reason])).toEqual([
      [1, undefined],
      [null, 'timeout'],
      [null, 'crc'],
      [1, undefined],
      [1, 'warm-up'],
    ]);
    expect((records[0]?.payload as TelemetryPayload).indicator).toBe('L1_LF_1');
    expect(records[0]).toMatchObject({ wallTs: Date.UTC(2026, 0, 1), monoTs: 0, clockSynced: true, stream: 'telemetry' });
  });

  it('uses the accelerated interval while the device is accelerated', () => {
    const outbox = new InMemoryOutbox();
    let accelerated = false;
    const recorder = new Recorder({
      outbox,
      defaultPolicy: { deadband: 1, maxIntervalMs: 1_800_000, acceleratedIntervalMs: 60_000 },
      isAccelerated: (deviceId) => deviceId === 'rock1' && accelerated,
    });
    recorder.onReadings([at(0, 5), at(60_000, 5)]);
    expect(recordedValues(outbox)).toEqual([5]);
    accelerated = true;
    recorder.onReadings([at(90_000, 5), at(120_000, 5.1), at(150_000, 5.1), at(180_000, 5.2)]);
    expect(recordedValues(outbox)).toEqual([5, 5, 5.1]);
  });

  it('puts every safety event into the outbox as an event, and never throws into the reading stream', () => {
    const outbox = new InMemoryOutbox();
    const errors: unknown[] = [];
    const stream = new ReadingStream((error) => errors.push(error));
    const events = new SafetyEventLog(quietLogger());
    const recorder = new Recorder({ outbox, onError: () => {} });
    recorder.attach({ readings: stream, events });
    events.sink({ type: 'alarm-raised', channelId: 'rock1.crack', value: 12, rule: 'r', wallTs: 1, monoTs: 2, clockSynced: false });
    expect(outbox.stats().lastSeq).toBe(1);
    const broken = new Recorder({ outbox: { append: () => { throw new Error('disk full'); } } });
    broken.attach({ readings: stream });
    stream.publish([at(0, 1)]);
    expect(errors).toEqual([]);
    expect(broken.stats().appendErrors).toBe(1);
  });

  it('refuses a nonsensical policy at construction', () => {
    expect(() => new Recorder({ outbox: new InMemoryOutbox(), channels: [{ id: 'x', policy: { deadband: -1 } }] })).toThrow(/deadband/);
  });
});
