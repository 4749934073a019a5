import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandHandler, type AlarmCommands, type OutputCommands } from '../../agent/commands/index.js';
import { openOutbox, type Outbox } from '../../agent/outbox/index.js';
import { Uplink, type LatestValue, type TelemetryPayload } from '../../agent/uplink/index.js';
import { createGeohazardProfile, GEOHAZARD_ACTIONS } from '../../agent/uplink/profiles/geohazard/index.js';
import { geohazardOptions } from '../../config/schema/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { FaultProxy } from './fault-proxy.js';
import { sleep, waitUntil } from './helpers.js';

/**
 * The geohazard profile through the real Uplink, a real outbox on disk and a real broker. The platform side is
 * a plain MQTT client that reads the $dp frames by itself: type byte, two-byte big-endian length, JSON.
 */

const DEVICE = 'GH0001';
const RAW_OPTIONS = {
  deviceId: DEVICE,
  channels: { 'rock1.crack1': 'L1_LF_1', 'rock1.crack2': 'L1_LF_2', 'rain.total': 'L3_YL_1', 'tilt.x': 'L1_QJ_1.X', 'tilt.y': 'L1_QJ_1.Y' },
};
const CHANNELS = ['rock1.crack1', 'rock1.crack2', 'rain.total', 'tilt.x', 'tilt.y', 'gas.ch4'].map((id) => ({ id, deviceId: id.split('.')[0] ?? id }));

type Points = Record<string, Record<string, unknown>>;

interface DpFrame {
  type: number;
  points: Points;
}

/** The platform: subscribes to $dp and $dr, checks every frame's header against its JSON. */
class Platform {
  readonly frames: DpFrame[] = [];
  readonly replies: string[] = [];
  readonly invalid: string[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (topic === '$dr') {
        this.replies.push(payload.toString('utf8'));
        return;
      }
      if (topic !== '$dp') return;
      const type = payload[0] ?? -1;
      const length = payload.length >= 3 ? payload.readUInt16BE(1) : -1;
      if (length !== payload.length - 3) {
        this.invalid.push(`length ${length} but ${payload.length - 3} bytes of JSON`);
        return;
      }
      try {
        const json = JSON.parse(payload.subarray(3).toString('utf8')) as Record<string, Points>;
        const keys = Object.keys(json);
        if (keys.length !== 1 || keys[0] !== DEVICE) throw new Error(`frame for ${keys.join(',')}`);
        this.frames.push({ type, points: json[DEVICE] ?? {} });
      } catch (error) {
        this.invalid.push(String(error));
      }
    });
  }

  static async connect(broker: TestBroker): Promise<Platform> {
    const client = connect(broker.url, { clientId: `platform-${Math.random().toString(16).slice(2)}`, protocolVersion: broker.protocolVersion, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(['$dp', '$dr'], { qos: 1 });
    return new Platform(client);
  }

  /** Every (time, value) of one code, in arrival order. */
  series(code: string): Array<[string, unknown]> {
    return this.frames.flatMap((f) => Object.entries(f.points[code] ?? {}));
  }

  statuses(): Array<Record<string, unknown>> {
    return this.frames.flatMap((f) => (f.points.S1_ZT_1 ? [f.points.S1_ZT_1] : []));
  }

  async command(name: string, rest: string, msgid: string): Promise<string> {
    await this.client.publishAsync(`$creq/${DEVICE}/${msgid}`, `$cmd=${name}${rest}&msgid=${msgid}`, { qos: 1 });
    let found: string | undefined;
    await waitUntil(() => (found = this.replies.find((r) => r.startsWith(`$cmd=${name}&`) && r.includes(`&msgid=${msgid}`))) !== undefined, `the reply to ${msgid}`);
    return found ?? '';
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
    if (this.invalid.length > 0) throw new Error(`invalid $dp frames:\n${this.invalid.join('\n')}`);
  }
}

function crack(channelId: string, value: number | null): TelemetryPayload {
  return { channelId, deviceId: 'rock1', value, unit: 'mm', quality: value === null ? 'bad' : 'good', ...(value === null ? { reason: 'timeout' as const } : {}) };
}

describe('geohazard profile over a real broker', () => {
  let broker: TestBroker;
  let proxy: FaultProxy;
  let platform: Platform;
  let outbox: Outbox;
  let dir: string;
  let uplink: Uplink | undefined;
  const latest: LatestValue[] = [];
  const calls: string[] = [];
  let samples = 0;

  const start = (plus?: string): Uplink => {
    const alarms: AlarmCommands = {
      acknowledge: () => ({ acknowledged: [] }),
      reset: () => ({ reset: [], refused: [] }),
      setBaseline: (channel, by) => (calls.push(`set-baseline ${channel} by ${by}`), { ok: true, baseline: 0 }),
      channel: (id) => (CHANNELS.some((c) => c.id === id) ? {} : undefined),
    };
    const outputs: OutputCommands = { force: () => ({ ok: false, error: 'none' }), clearOverride: () => ({ ok: false, error: 'none' }), silence: () => ({ silenced: [] }) };
    const options = geohazardOptions.parse(plus ? { ...RAW_OPTIONS, plusInterval: plus } : RAW_OPTIONS);
    uplink = new Uplink({
      gatewayId: 'gw-test',
      siteId: 'rock',
      clientId: DEVICE,
      broker: { url: proxy.url, protocolVersion: broker.protocolVersion, keepaliveSec: 5, connectTimeoutMs: 3000 },
      outbox,
      clock: { stamp: () => ({ wallTs: Date.now(), monoTs: performance.now(), clockSynced: true }) },
      logger: pino({ level: 'silent' }),
      birth: { version: '1.2.3', configHash: 'cafe', channels: CHANNELS },
      latest: () => latest,
      requestSample: () => (samples++, true),
      reconnect: { minDelayMs: 50, maxDelayMs: 400, stableAfterMs: 2000 },
      profile: (ctx) => createGeohazardProfile(ctx, options, CHANNELS),
      commands: { handler: new CommandHandler(alarms, outputs), allowedActions: GEOHAZARD_ACTIONS, requireSignature: 'never' },
    });
    uplink.start();
    return uplink;
  };

  beforeEach(async () => {
    broker = await startBroker();
    proxy = await FaultProxy.start(broker.port);
    platform = await Platform.connect(broker);
    dir = mkdtempSync(join(tmpdir(), 'vigil-geohazard-'));
    outbox = await openOutbox({ dir, maxBytes: 64 * 1024 * 1024, flushIntervalMs: 20 });
    latest.length = 0;
    calls.length = 0;
    samples = 0;
  });

  afterEach(async () => {
    await uplink?.stop(300);
    uplink = undefined;
    await platform.close();
    await outbox.close();
    rmSync(dir, { recursive: true, force: true });
    await proxy.close();
    await broker.close();
  });

  it('birth status, then readings as $dp frames the platform decodes on its own; commands answered on $dr', async () => {
    start();
    await waitUntil(() => uplink?.stats().state === 'online', 'online');
    await waitUntil(() => platform.statuses().length >= 1, 'the birth status');
    expect(platform.frames[0]?.type).toBe(3);
    expect(platform.statuses()[0]).toEqual({ sw_version: '1.2.3', clock_synced: 1, sensor_state: { L1_LF_1: -3, L1_LF_2: -3, L3_YL_1: -3, L1_QJ_1: -3 } });

    const t0 = Date.UTC(2026, 10, 25, 8, 0, 0);
    const stamp = (ts: number): { wallTs: number; monoTs: number; clockSynced: boolean } => ({ wallTs: ts, monoTs: performance.now(), clockSynced: true });
    outbox.append('telemetry', crack('rock1.crack1', 12.34), stamp(t0));
    outbox.append('telemetry', { channelId: 'tilt.x', deviceId: 'tilt', value: 1.5, unit: '°', quality: 'good' }, stamp(t0));
    outbox.append('telemetry', { channelId: 'tilt.y', deviceId: 'tilt', value: -2, unit: '°', quality: 'good' }, stamp(t0));
    outbox.append('telemetry', { channelId: 'gas.ch4', deviceId: 'gas', value: 3, unit: 'ppm', quality: 'good' }, stamp(t0));
    outbox.append('telemetry', crack('rock1.crack2', null), stamp(t0 + 1000));
    await waitUntil(() => platform.series('L1_QJ_1').length > 0 && platform.series('L1_LF_1').length > 0, 'the readings');
    await waitUntil(() => outbox.stats().records === 0, 'every record acked');
    expect(platform.series('L1_LF_1')).toEqual([['2026-11-25T08:00:00.000Z', 12.34]]);
    expect(platform.series('L1_QJ_1')).toEqual([['2026-11-25T08:00:00.000Z', { X: 1.5, Y: -2 }]]);
    expect(platform.series('L1_LF_2')).toEqual([]);
    expect(platform.frames.some((f) => 'gas.ch4' in f.points || Object.values(f.points).some((v) => JSON.stringify(v).includes('"3"')))).toBe(false);

    expect(await platform.command('reqtime', '', 'q1')).toMatch(/^\$cmd=reqtime&result=succ&msgid=q1&time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z&synced=1$/);
    expect(await platform.command('setInitial', '&sensor_id=L1_LF_1', 'q2')).toBe('$cmd=setInitial&result=succ&msgid=q2');
    expect(calls).toEqual(['set-baseline rock1.crack1 by platform:q2']);
    expect(await platform.command('setInitial', '', 'q3')).toBe('$cmd=setInitial&result=succ&msgid=q3');
    expect(calls.slice(1)).toEqual(['set-baseline rock1.crack1 by platform:q3#L1_LF_1', 'set-baseline rock1.crack2 by platform:q3#L1_LF_2']);
    expect(await platform.command('reboot', '', 'q4')).toMatch(/^\$cmd=reboot&result=fail&msgid=q4&reason=/);
    expect(await platform.command('nonsense', '&x=1', 'q5')).toBe('$cmd=nonsense&result=fail&msgid=q5&reason=unknown%20command%20%22nonsense%22');
    const statusesBefore = platform.statuses().length;
    expect(await platform.command('getstatus', '', 'q6')).toMatch(/^\$cmd=getstatus&result=succ&msgid=q6&state=\{.*"sensor_state":\{/);
    await waitUntil(() => platform.statuses().length > statusesBefore, 'the status frame for getstatus');
    // Garbage on the command topic: answered, and the gateway carries on.
    await platform.client.publishAsync(`$creq/${DEVICE}/zz`, Buffer.from([0xff, 0x00, 0x26]), { qos: 1 });
    expect(await platform.command('reqtime', '', 'q7')).toMatch(/^\$cmd=reqtime&result=succ&msgid=q7/);
    expect(uplink?.stats().state).toBe('online');
  });

  it('outage: readings recorded while the broker is unreachable arrive afterwards, in order, with their own times', async () => {
    start();
    await waitUntil(() => uplink?.stats().state === 'online', 'online');
    const t0 = Date.UTC(2026, 10, 25, 9, 0, 0);
    const value = (i: number): number => Math.round(i * 1.7 * 100) / 100;
    const append = (from: number, to: number): void => {
      for (let i = from; i < to; i++) outbox.append('telemetry', crack('rock1.crack1', value(i)), { wallTs: t0 + i * 1000, monoTs: performance.now(), clockSynced: true });
    };
    append(0, 20);
    await waitUntil(() => platform.series('L1_LF_1').length === 20, 'live readings');

    await proxy.down();
    await waitUntil(() => uplink?.stats().state !== 'online', 'offline');
    append(20, 220);
    await sleep(300);
    await proxy.up();

    await waitUntil(() => new Set(platform.series('L1_LF_1').map(([time]) => time)).size === 220, 'every reading after the outage', 30_000);
    await waitUntil(() => outbox.stats().records === 0, 'every record acked');
    const series = platform.series('L1_LF_1');
    // At least once: a frame in flight when the link was cut may come twice; the platform keys points by time.
    const firstSeen = new Map<string, unknown>();
    for (const [time, v] of series) if (!firstSeen.has(time)) firstSeen.set(time, v);
    const expected = Array.from({ length: 220 }, (_, i) => [new Date(t0 + i * 1000).toISOString(), value(i)]);
    expect([...firstSeen.entries()]).toEqual(expected);
    // In order: the times first seen never go backwards.
    const times = [...firstSeen.keys()];
    expect([...times].sort()).toEqual(times);
    // A status came with each connect.
    expect(platform.statuses().length).toBeGreaterThanOrEqual(2);
  });

  it('emergency mode reports at once and then every plus_intv until normal mode; sample reports now', async () => {
    start('1s');
    await waitUntil(() => uplink?.stats().state === 'online', 'online');
    latest.push({ channelId: 'rock1.crack1', deviceId: 'rock1', value: 4.25, unit: 'mm', quality: 'good', ts: Date.UTC(2026, 10, 25, 10, 0, 0), clock: 'synced' });
    const reports = (): number => platform.series('L1_LF_1').length;

    expect(await platform.command('sample', '', 's1')).toBe('$cmd=sample&result=succ&msgid=s1');
    expect(samples).toBe(1);
    await waitUntil(() => reports() === 1, 'the sample report');
    expect(platform.series('L1_LF_1')[0]).toEqual(['2026-11-25T10:00:00.000Z', 4.25]);

    expect(await platform.command('setsensortime', '&plus_intv=1', 'e0')).toBe('$cmd=setsensortime&result=succ&msgid=e0');
    expect(await platform.command('setworkmode', '&mode=2', 'e1')).toBe('$cmd=setworkmode&result=succ&msgid=e1');
    const entered = reports();
    await sleep(3500);
    const during = reports() - entered;
    // Once at once, then about every second: generous bounds, no timing claims.
    expect(during).toBeGreaterThanOrEqual(2);
    expect(during).toBeLessThanOrEqual(8);

    expect(await platform.command('setworkmode', '&mode=0', 'e2')).toBe('$cmd=setworkmode&result=succ&msgid=e2');
    await sleep(300);
    const left = reports();
    await sleep(2500);
    expect(reports()).toBe(left);
  });
});
