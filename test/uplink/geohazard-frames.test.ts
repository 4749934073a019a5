import { describe, expect, it } from 'vitest';
import { CommandHandler, type AlarmCommands, type OutputCommands } from '../../agent/commands/index.js';
import { createGeohazardProfile, type GeohazardProfile } from '../../agent/uplink/profiles/geohazard/index.js';
import {
  CommandGate,
  detachedProfileHost,
  type LatestValue,
  type OutgoingMessage,
  type PlatformCommand,
  type ProfileHost,
  type TelemetryDelivery,
  type TelemetryPayload,
} from '../../agent/uplink/index.js';
import { geohazardOptions, type GeohazardOptions } from '../../config/schema/index.js';

/**
 * The geohazard $dp frames and $dr replies, byte for byte, for fixed inputs. The expected frames are written
 * out by hand from the protocol (type byte, two length bytes big-endian, the JSON), not captured from the code.
 */

const T = Date.UTC(2026, 10, 25, 8, 0, 0); // 2026-11-25T08:00:00.000Z
const MIN = 60_000;

const OPTIONS: GeohazardOptions = geohazardOptions.parse({
  deviceId: 'GH0001',
  channels: {
    'rock1.crack1': 'L1_LF_1',
    'rock1.crack2': 'L1_LF_2',
    'tilt.x': 'L1_QJ_1.X',
    'tilt.y': 'L1_QJ_1.Y',
    'rain.total': 'L3_YL_1',
  },
  statusChannels: { temp: 'box.temp' },
  plusInterval: '1s',
});

const CHANNELS = ['rock1.crack1', 'rock1.crack2', 'tilt.x', 'tilt.y', 'rain.total', 'box.temp', 'gas.ch4'].map((id) => ({ id, deviceId: id.split('.')[0] ?? id }));

function frame(type: number, lengthHi: number, lengthLo: number, json: string): Buffer {
  return Buffer.concat([Buffer.from([type, lengthHi, lengthLo]), Buffer.from(json, 'utf8')]);
}

function reading(channelId: string, value: number | null, extra: Partial<TelemetryPayload> = {}): TelemetryPayload {
  return {
    channelId,
    deviceId: channelId.split('.')[0] ?? channelId,
    value,
    unit: 'mm',
    quality: value === null ? 'bad' : 'good',
    ...(value === null ? { reason: 'timeout' as const } : {}),
    ...extra,
  };
}

let seq = 0;
function delivery(payload: TelemetryPayload, ts: number, historical: boolean, clock: TelemetryDelivery['clock'] = 'synced'): TelemetryDelivery {
  return { stream: 'telemetry', seq: ++seq, ts, clock, historical, reading: payload };
}

interface Harness {
  profile: GeohazardProfile;
  published: OutgoingMessage[];
  latest: LatestValue[];
  samples: number;
  calls: string[];
  /** Decodes a command and, as the uplink does, judges it at the gate and encodes the result. */
  command(payload: string, topic?: string, retained?: boolean): Promise<string[]>;
}

function harness(options: GeohazardOptions = OPTIONS, canSample = true): Harness {
  const published: OutgoingMessage[] = [];
  const latest: LatestValue[] = [];
  const calls: string[] = [];
  const alarms: AlarmCommands = {
    acknowledge: () => ({ acknowledged: [] }),
    reset: () => ({ reset: [], refused: [] }),
    setBaseline: (channel, by) => {
      if (channel === 'rock1.crack2' && calls.includes('fail crack2')) return { ok: false, error: 'gauge not read yet' };
      calls.push(`set-baseline ${channel} by ${by}`);
      return { ok: true, baseline: 1.5 };
    },
    channel: (id) => (CHANNELS.some((c) => c.id === id) ? {} : undefined),
  };
  const outputs: OutputCommands = {
    force: () => ({ ok: false, error: 'no outputs' }),
    clearOverride: () => ({ ok: false, error: 'no outputs' }),
    silence: () => ({ silenced: [] }),
  };
  const clock = { stamp: () => ({ wallTs: T, monoTs: performance.now(), clockSynced: true }) };
  const gate = new CommandGate({ handler: new CommandHandler(alarms, outputs), allowedActions: ['set-baseline'] }, clock);
  const pendingJudgements: Promise<void>[] = [];
  const judge = (decoded: Parameters<CommandGate['handle']>[0]): void => {
    pendingJudgements.push(
      gate.handle(decoded, false).then((outcome) => {
        const message = h.profile.encodeCommandResult(outcome);
        if (message) published.push(message);
      }),
    );
  };
  const host: ProfileHost = {
    ...detachedProfileHost(() => ({ ts: T, clock: 'synced' })),
    publish: (messages) => published.push(...messages),
    latest: () => latest,
    requestSample: () => {
      h.samples++;
      return canSample;
    },
    submit: (command: PlatformCommand) => judge({ ok: true, command }),
  };
  const h: Harness = {
    profile: createGeohazardProfile({ siteId: 's', gatewayId: 'g', topicPrefix: 'x', host }, options, CHANNELS),
    published,
    latest,
    samples: 0,
    calls,
    async command(payload, topic = '$creq/GH0001/cmd-1', retained = false) {
      const before = published.length;
      const decoded = h.profile.decodeCommand(topic, Buffer.from(payload, 'utf8'), retained);
      if (decoded.ok !== 'handled') judge(decoded);
      while (pendingJudgements.length > 0) await pendingJudgements.shift();
      return published.slice(before).filter((m) => m.topic === '$dr').map((m) => m.payload.toString('utf8'));
    },
  };
  return h;
}

function birth(h: Harness): OutgoingMessage[] {
  h.profile.sessionStarted?.();
  const messages = h.profile.encodeBirth({ ts: T, clock: 'synced', version: '1.2.3', configHash: 'c', channels: CHANNELS, latest: h.latest });
  return Array.isArray(messages) ? messages : [messages as OutgoingMessage];
}

function telemetry(h: Harness, batch: TelemetryDelivery[]): OutgoingMessage[] {
  const messages = h.profile.encodeTelemetry(batch);
  return Array.isArray(messages) ? messages : [messages as OutgoingMessage];
}

describe('geohazard $dp frames (golden)', () => {
  it('a historical batch: one frame, codes by time, tilt components together, unmapped channels left out', () => {
    const h = harness();
    const messages = telemetry(h, [
      delivery(reading('rock1.crack1', 12.34), T, true),
      delivery(reading('rock1.crack2', 0.5), T, true),
      delivery(reading('tilt.x', 1.25, { unit: '°' }), T, true),
      delivery(reading('tilt.y', -0.75, { unit: '°' }), T, true),
      delivery(reading('gas.ch4', 3), T, true),
      delivery(reading('rain.total', 0.2), T + MIN, true),
      delivery(reading('rock1.crack1', 12.36), T + MIN, true),
    ]);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.topic).toBe('$dp');
    expect(message?.retain).toBe(false);
    expect(message?.qos ?? 1).toBe(1);
    expect(message?.payload).toEqual(
      frame(
        0x03,
        0x00,
        0xec, // 236 bytes of JSON
        '{"GH0001":{"L1_LF_1":{"2026-11-25T08:00:00.000Z":12.34,"2026-11-25T08:01:00.000Z":12.36},' +
          '"L1_LF_2":{"2026-11-25T08:00:00.000Z":0.5},' +
          '"L1_QJ_1":{"2026-11-25T08:00:00.000Z":{"X":1.25,"Y":-0.75}},' +
          '"L3_YL_1":{"2026-11-25T08:01:00.000Z":0.2}}}',
      ),
    );
  });

  it('the birth is the S1_ZT_1 status: known fields only, sensor_state from our quality, never-read sensors -3', () => {
    const h = harness();
    h.latest.push(
      { channelId: 'box.temp', deviceId: 'box', value: 31.5, unit: '°C', quality: 'good', ts: T, clock: 'synced' },
      { channelId: 'rock1.crack1', deviceId: 'rock1', value: 12.3, unit: 'mm', quality: 'good', ts: T, clock: 'synced' },
    );
    const [message, ...rest] = birth(h);
    expect(rest).toEqual([]);
    expect(message?.topic).toBe('$dp');
    expect(message?.payload).toEqual(
      frame(
        0x03,
        0x00,
        0x8e, // 142
        '{"GH0001":{"S1_ZT_1":{"temp":31.5,"sw_version":"1.2.3","clock_synced":1,' +
          '"sensor_state":{"L1_LF_1":0,"L1_LF_2":-3,"L1_QJ_1":-3,"L3_YL_1":-3}}}}',
      ),
    );
  });

  it('a live batch with a bad reading sends no value for it and carries the status when a sensor changed', () => {
    const h = harness();
    birth(h); // everything -3: nothing read yet
    const messages = telemetry(h, [delivery(reading('rock1.crack1', null), T + 2 * MIN, false), delivery(reading('rock1.crack2', 12), T + 2 * MIN, false)]);
    expect(messages.map((m) => m.payload)).toEqual([
      frame(
        0x03,
        0x00,
        0xac, // 172
        '{"GH0001":{"L1_LF_2":{"2026-11-25T08:02:00.000Z":12},' +
          '"S1_ZT_1":{"sw_version":"1.2.3","clock_synced":1,"sensor_state":{"L1_LF_1":-3,"L1_LF_2":0,"L1_QJ_1":-3,"L3_YL_1":-3}}}}',
      ),
    ]);
    // Nothing changed since: no status again.
    const again = telemetry(h, [delivery(reading('rock1.crack2', 12.01), T + 3 * MIN, false)]);
    expect(again.map((m) => m.payload.subarray(3).toString())).toEqual(['{"GH0001":{"L1_LF_2":{"2026-11-25T08:03:00.000Z":12.01}}}']);
  });

  it('quality maps to sensor_state: no answer -3, a sensor or data fault -2, uncertain values sent but -2', () => {
    const h = harness();
    birth(h);
    const messages = telemetry(h, [
      delivery(reading('rock1.crack1', null, { reason: 'sensor-fault' }), T, false),
      delivery(reading('rock1.crack2', 4.5, { quality: 'uncertain', reason: 'needs-calibration' }), T, false),
      delivery(reading('rain.total', null, { reason: 'breaker-open' }), T, false),
    ]);
    const json = JSON.parse(messages[0]?.payload.subarray(3).toString() ?? '{}') as { GH0001: Record<string, unknown> };
    expect(json.GH0001.L1_LF_2).toEqual({ '2026-11-25T08:00:00.000Z': 4.5 });
    expect(json.GH0001.L1_LF_1).toBeUndefined();
    expect(json.GH0001.S1_ZT_1).toMatchObject({ sensor_state: { L1_LF_1: -2, L1_LF_2: -2, L1_QJ_1: -3, L3_YL_1: -3 } });
  });

  it('historical batches never carry a status (it would claim the past state as the present one)', () => {
    const h = harness();
    birth(h);
    const messages = telemetry(h, [delivery(reading('rock1.crack1', null), T, true), delivery(reading('rock1.crack2', 2), T, true)]);
    expect(messages.map((m) => m.payload.subarray(3).toString())).toEqual(['{"GH0001":{"L1_LF_2":{"2026-11-25T08:00:00.000Z":2}}}']);
  });

  it('an all-unmapped or all-bad historical batch encodes to nothing (acked as done); events are not sent', () => {
    const h = harness();
    expect(telemetry(h, [delivery(reading('gas.ch4', 3), T, false)])).toEqual([]);
    expect(telemetry(h, [delivery(reading('rock1.crack1', null), T, true)])).toEqual([]);
    expect(h.profile.encodeEvent({ stream: 'event', seq: 1, ts: T, clock: 'synced', historical: false, event: { type: 'fault', rule: 'r', value: null, wallTs: T, monoTs: 0, clockSynced: true } })).toEqual([]);
  });

  it('the same channel twice at the same millisecond goes in two frames rather than overwrite one value', () => {
    const h = harness();
    const messages = telemetry(h, [delivery(reading('rock1.crack1', 1), T, true), delivery(reading('rock1.crack1', 2), T, true)]);
    expect(messages.map((m) => m.payload.subarray(3).toString())).toEqual([
      '{"GH0001":{"L1_LF_1":{"2026-11-25T08:00:00.000Z":1}}}',
      '{"GH0001":{"L1_LF_1":{"2026-11-25T08:00:00.000Z":2}}}',
    ]);
  });

  it('a batch beyond 65,535 bytes of JSON is split; every frame length matches its JSON', () => {
    const h = harness();
    const batch = Array.from({ length: 4000 }, (_, i) => delivery(reading('rock1.crack1', i / 100), T + i * 1000, true));
    const messages = telemetry(h, batch);
    expect(messages.length).toBeGreaterThan(1);
    let points = 0;
    for (const m of messages) {
      const length = m.payload.readUInt16BE(1);
      expect(m.payload[0]).toBe(3);
      expect(length).toBe(m.payload.length - 3);
      const json = JSON.parse(m.payload.subarray(3).toString()) as { GH0001: { L1_LF_1: Record<string, number> } };
      points += Object.keys(json.GH0001.L1_LF_1).length;
    }
    expect(points).toBe(4000);
  });

  it('readings stamped while the clock was unsynchronised are still sent, with their time; the status says clock_synced', () => {
    const h = harness();
    const messages = telemetry(h, [delivery(reading('rock1.crack1', 7), T, true, 'unsynced')]);
    expect(messages.map((m) => m.payload.subarray(3).toString())).toEqual(['{"GH0001":{"L1_LF_1":{"2026-11-25T08:00:00.000Z":7}}}']);
  });

  it('the will is an empty $dp frame for this device, not retained; the frame type byte follows the options', () => {
    const will = harness().profile.encodeWill();
    expect(will).toMatchObject({ topic: '$dp', retain: false });
    expect(will.payload).toEqual(frame(0x03, 0x00, 0x0d, '{"GH0001":{}}'));
    const typed = harness(geohazardOptions.parse({ deviceId: 'GH0001', channels: { 'rock1.crack1': 'L1_LF_1' }, frameType: 4 })).profile.encodeWill();
    expect(typed.payload[0]).toBe(4);
    expect(harness().profile.encodeShutdown({ ts: T, clock: 'synced' })).toEqual([]);
  });

  it('logs in with the device id as user name when only the API key is configured', () => {
    const p = harness().profile;
    const password = { reveal: () => Buffer.from('k') } as never;
    expect(p.connectIdentity?.({ clientId: 'GH0001', credentials: { password } }).credentials.username).toBe('GH0001');
    expect(p.connectIdentity?.({ clientId: 'GH0001', credentials: { username: 'prod', password } }).credentials.username).toBe('prod');
  });
});

describe('geohazard options', () => {
  const parse = (channels: Record<string, string>): string[] => {
    const result = geohazardOptions.safeParse({ deviceId: 'GH0001', channels });
    return result.success ? [] : result.error.issues.map((i) => i.message);
  };

  it('accepts plain codes and tilt components; refuses a tilt without component, a wrong component, a code both ways', () => {
    expect(parse({ a: 'L1_LF_1', b: 'L3_YL_1', c: 'L1_QJ_1.X', d: 'L1_QJ_1.AZI' })).toEqual([]);
    expect(parse({ a: 'L1_QJ_1' })).toEqual([expect.stringContaining('components')]);
    expect(parse({ a: 'L1_QJ_1.Q' })).toEqual([expect.stringContaining('not a component of L1_QJ')]);
    expect(parse({ a: 'L1_LF_1.X' })).toEqual([expect.stringContaining('plain value')]);
    expect(parse({ a: 'L9_XX_1' })).toEqual([expect.stringContaining('channel code')]);
    expect(parse({})).toEqual([expect.stringContaining('at least one')]);
  });

  it('defaults: frame type 3, emergency interval 5 min, status every hour', () => {
    const o = geohazardOptions.parse({ deviceId: 'GH0001', channels: { a: 'L1_LF_1' } });
    expect([o.frameType, o.plusInterval, o.statusInterval]).toEqual([3, 300_000, 3_600_000]);
  });
});

describe('geohazard commands (exact $dr replies)', () => {
  it('reqtime answers with the gateway time', async () => {
    expect(await harness().command('$cmd=reqtime&apikey=abc&msgid=m1')).toEqual(['$cmd=reqtime&result=succ&msgid=m1&time=2026-11-25T08:00:00.000Z&synced=1']);
  });

  it('getstatus answers with the state and publishes the S1_ZT_1 frame', async () => {
    const h = harness();
    birth(h);
    const before = h.published.length;
    const replies = await h.command('$cmd=getstatus&msgid=m2');
    const status = '{"sw_version":"1.2.3","clock_synced":1,"sensor_state":{"L1_LF_1":-3,"L1_LF_2":-3,"L1_QJ_1":-3,"L3_YL_1":-3}}';
    expect(replies).toEqual([`$cmd=getstatus&result=succ&msgid=m2&state=${status}`]);
    const dp = h.published.slice(before).filter((m) => m.topic === '$dp');
    expect(dp.map((m) => m.payload.subarray(3).toString())).toEqual([`{"GH0001":{"S1_ZT_1":${status}}}`]);
  });

  it('sample polls, answers, and reports the latest good values of mapped channels now', async () => {
    const h = harness();
    birth(h);
    h.latest.push(
      { channelId: 'rock1.crack1', deviceId: 'rock1', value: 3.25, unit: 'mm', quality: 'good', ts: T, clock: 'synced' },
      { channelId: 'rock1.crack2', deviceId: 'rock1', value: null, unit: 'mm', quality: 'bad', reason: 'timeout', ts: T, clock: 'synced' },
      { channelId: 'gas.ch4', deviceId: 'gas', value: 1, unit: 'ppm', quality: 'good', ts: T, clock: 'synced' },
    );
    const before = h.published.length;
    expect(await h.command('$cmd=sample&msgid=m3')).toEqual(['$cmd=sample&result=succ&msgid=m3']);
    expect(h.samples).toBe(1);
    const dp = h.published.slice(before).filter((m) => m.topic === '$dp');
    expect(dp.map((m) => m.payload.subarray(3).toString())).toEqual([
      '{"GH0001":{"L1_LF_1":{"2026-11-25T08:00:00.000Z":3.25},"S1_ZT_1":{"sw_version":"1.2.3","clock_synced":1,"sensor_state":{"L1_LF_1":0,"L1_LF_2":-3,"L1_QJ_1":-3,"L3_YL_1":-3}}}}',
    ]);
    expect(await harness(OPTIONS, false).command('$cmd=sample&msgid=m4')).toEqual(['$cmd=sample&result=fail&msgid=m4&reason=the%20field%20side%20cannot%20poll%20now']);
  });

  it('a retained request fails and does nothing (it would run again on every connect)', async () => {
    const h = harness();
    birth(h);
    expect(await h.command('$cmd=sample&msgid=r1', '$creq/GH0001/cmd-1', true)).toEqual([
      '$cmd=sample&result=fail&msgid=r1&reason=retained%20commands%20are%20not%20accepted%20(publish%20commands%20with%20retain%20off)',
    ]);
    expect(h.samples).toBe(0);
    expect(await h.command('$cmd=setworkmode&mode=2&msgid=r2', '$creq/GH0001/cmd-1', true)).toHaveLength(1);
    expect(h.profile.workMode()).toBe(0);
  });

  it('setworkmode: 2 reports at once, 0 and 1 return to normal; anything else fails and changes nothing', async () => {
    const h = harness();
    birth(h);
    const before = h.published.length;
    expect(await h.command('$cmd=setworkmode&mode=2&msgid=w1')).toEqual(['$cmd=setworkmode&result=succ&msgid=w1']);
    expect(h.profile.workMode()).toBe(2);
    expect(h.published.slice(before).filter((m) => m.topic === '$dp')).toHaveLength(1);
    expect(await h.command('$cmd=setworkmode&mode=7&msgid=w2')).toEqual(['$cmd=setworkmode&result=fail&msgid=w2&reason=mode%20must%20be%200%20(normal)%2C%201%20(energy%20saving)%20or%202%20(emergency)']);
    expect(h.profile.workMode()).toBe(2);
    expect(await h.command('$cmd=setworkmode&mode=0&msgid=w3')).toEqual(['$cmd=setworkmode&result=succ&msgid=w3']);
    expect(h.profile.workMode()).toBe(0);
    h.profile.dispose?.();
  });

  it('setsensortime sets plus and upload intervals; sample_intv is acknowledged as ignored; bad numbers fail', async () => {
    const h = harness();
    expect(await h.command('$cmd=setsensortime&sensor_id=L1_LF_1&sample_intv=60&upload_intv=600&plus_intv=30&msgid=t1')).toEqual([
      '$cmd=setsensortime&result=succ&msgid=t1&ignored=sample_intv',
    ]);
    expect(h.profile.intervals()).toEqual({ plusMs: 30_000, uploadMs: 600_000, sampleS: 60 });
    expect(await h.command('$cmd=setsensortime&plus_intv=abc&msgid=t2')).toEqual(['$cmd=setsensortime&result=fail&msgid=t2&reason=plus_intv%20must%20be%20a%20whole%20number%20of%20seconds%2C%20not%20%22abc%22']);
    expect(await h.command('$cmd=setsensortime&plus_intv=0&msgid=t3')).toEqual(['$cmd=setsensortime&result=fail&msgid=t3&reason=plus_intv%20must%20be%20between%201%20and%2086400%20seconds']);
    expect(await h.command('$cmd=setsensortime&sensor_id=L9&plus_intv=5&msgid=t4')).toEqual(['$cmd=setsensortime&result=fail&msgid=t4&reason=sensor_id%20%22L9%22%20is%20not%20mapped%20on%20this%20gateway']);
    expect(await h.command('$cmd=setsensortime&msgid=t5')).toEqual(['$cmd=setsensortime&result=fail&msgid=t5&reason=give%20sample_intv%2C%20upload_intv%20or%20plus_intv%20(seconds)']);
    expect(h.profile.intervals()).toEqual({ plusMs: 30_000, uploadMs: 600_000, sampleS: 60 });
  });

  it('setInitial sets the crack baseline through the gate: one gauge, or every mapped gauge with one answer', async () => {
    const h = harness();
    expect(await h.command('$cmd=setInitial&sensor_id=L1_LF_2&msgid=i1')).toEqual(['$cmd=setInitial&result=succ&msgid=i1']);
    expect(h.calls).toEqual(['set-baseline rock1.crack2 by platform:i1']);
    expect(await h.command('$cmd=setInitial&msgid=i2')).toEqual(['$cmd=setInitial&result=succ&msgid=i2']);
    expect(h.calls.slice(1)).toEqual(['set-baseline rock1.crack1 by platform:i2#L1_LF_1', 'set-baseline rock1.crack2 by platform:i2#L1_LF_2']);
    // The same msgid again: the gate refuses the duplicate; the gauge is not set twice.
    expect(await h.command('$cmd=setInitial&sensor_id=L1_LF_2&msgid=i1')).toEqual([expect.stringMatching(/^\$cmd=setInitial&result=fail&msgid=i1&reason=command%20id%20already%20received/)]);
    expect(h.calls).toHaveLength(3);
    expect(await h.command('$cmd=setInitial&sensor_id=L1_QJ_1&msgid=i3')).toEqual(['$cmd=setInitial&result=fail&msgid=i3&reason=setInitial%20applies%20to%20crack%20gauges%20(L1_LF_n)%2C%20not%20L1_QJ_1']);
    expect(await h.command('$cmd=setInitial&sensor_id=L1_LF_9&msgid=i4')).toEqual(['$cmd=setInitial&result=fail&msgid=i4&reason=sensor_id%20%22L1_LF_9%22%20is%20not%20mapped%20on%20this%20gateway']);
  });

  it('setInitial for all gauges fails as a whole when one gauge fails, naming it', async () => {
    const h = harness();
    h.calls.push('fail crack2');
    expect(await h.command('$cmd=setInitial&msgid=i5')).toEqual(['$cmd=setInitial&result=fail&msgid=i5&reason=L1_LF_2%3A%20gauge%20not%20read%20yet']);
  });

  it('setsensorattr, reboot and meteorologicalearlywarning are refused with a reason; nothing runs', async () => {
    const h = harness();
    expect(await h.command('$cmd=setsensorattr&sensor_id=L1_LF_1&threshold=5&upper_limit=9&lower_limit=0&msgid=a1')).toEqual([
      '$cmd=setsensorattr&result=fail&msgid=a1&reason=thresholds%20and%20limits%20are%20set%20in%20the%20site%20config%20(safety%20rules)%2C%20not%20from%20the%20platform',
    ]);
    expect(await h.command('$cmd=reboot&msgid=a2')).toEqual(['$cmd=reboot&result=fail&msgid=a2&reason=reboot%20is%20not%20run%20from%20an%20unsigned%20platform%20command%3B%20restart%20the%20gateway%20locally']);
    expect(await h.command('$cmd=meteorologicalearlywarning&level=0&msgid=a3')).toEqual(['$cmd=meteorologicalearlywarning&result=fail&msgid=a3&reason=this%20gateway%20has%20no%20warning%20outputs%20for%20platform%20early%20warnings']);
    expect(h.calls).toEqual([]);
  });

  it('malformed commands fail with a reason and never throw', async () => {
    const h = harness();
    expect(await h.command('$cmd=frobnicate&msgid=x1')).toEqual(['$cmd=frobnicate&result=fail&msgid=x1&reason=unknown%20command%20%22frobnicate%22']);
    expect(await h.command('$cmd=getstatus')).toEqual(['$cmd=getstatus&result=fail&reason=msgid%20is%20missing']);
    expect(await h.command('$cmd=getstatus&msgid=a b')).toEqual(['$cmd=getstatus&result=fail&reason=msgid%20must%20be%201%20to%2064%20printable%20characters%20without%20%22%26%22%20or%20%22%3D%22']);
    expect(await h.command('{"cmd":"getstatus"}')).toEqual(['$cmd=unknown&result=fail&reason=not%20a%20%22%24cmd%3D%3Cname%3E%26%E2%80%A6%22%20command']);
    expect(await h.command('')).toEqual(['$cmd=unknown&result=fail&reason=empty%20command']);
    expect(await h.command('$cmd=reqtime&msgid=x2&msgid=x3')).toEqual(['$cmd=reqtime&result=fail&msgid=x2&reason=%22msgid%22%20is%20given%20twice']);
    expect(await h.command('$cmd=reqtime&bad%ZZ=1&msgid=x4')).toEqual(['$cmd=reqtime&result=fail&msgid=x4&reason=%22bad%25ZZ%3D1%22%20is%20not%20key%3Dvalue%20(percent-encoded)']);
    expect(await h.command('$cmd=re qtime&msgid=x5')).toEqual(['$cmd=unknown&result=fail&msgid=x5&reason=command%20name%20%22re%20qtime%22%20is%20not%20a%20name']);
    expect(await h.command('$cmd=reqtime&msgid=x6', '$creq/OTHER/cmd-1')).toEqual(['$cmd=reqtime&result=fail&msgid=x6&reason=not%20this%20device\'s%20command%20topic%20(%24creq%2FGH0001%2F%3Cid%3E)']);
    expect(await h.command(Buffer.from([0x24, 0xff, 0xfe]).toString('latin1'))).toHaveLength(1);
    expect(await h.command('$cmd=setworkmode&mode=%32&msgid=x7')).toEqual(['$cmd=setworkmode&result=succ&msgid=x7']); // percent-decoded "2"
    h.profile.dispose?.();
  });
});

describe('geohazard platforms entry in a site file', () => {
  it('vigil check refuses a status channel the site lacks and a tilt mapped without component, saying where', async () => {
    const { loadSiteText } = await import('../../config/index.js');
    const text = [
      'site: { id: t, name: t }',
      'buses: [{ id: b, tcp: { host: 127.0.0.1, port: 1502 } }]',
      'devices:',
      '  - { id: rock, bus: b, unit: 1, profile: crack-drawwire-u16, channels: [{ id: crack1, register: displacement }] }',
      'platforms:',
      '  - id: geo',
      '    profile: geohazard',
      '    broker: { url: "mqtt://127.0.0.1:1883" }',
      '    geohazard: { deviceId: D1, channels: { crack1: L1_LF_1 }, statusChannels: { temp: crak1 } }',
      '  - id: geo2',
      '    profile: geohazard',
      '    broker: { url: "mqtt://127.0.0.1:1884" }',
      '    geohazard: { deviceId: D2, channels: { crack1: L1_QJ_1 } }',
    ].join('\n');
    const result = loadSiteText(text, 'site.yaml');
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map((e) => `${e.line}: ${e.message} ${e.hint ?? ''}`);
    expect(messages).toContainEqual(expect.stringMatching(/^9: no channel "crak1".*crack1/));
    expect(messages).toContainEqual(expect.stringMatching(/^13: .*L1_QJ.*components/));
  });
});
