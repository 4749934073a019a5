import { afterEach, describe, expect, it } from 'vitest';
import { thingsboardOptions } from '../../config/schema/index.js';
import { THINGSBOARD_ACTIONS, createThingsboardProfile } from '../../agent/uplink/profiles/thingsboard/index.js';
import type { BirthChannel, Uplink } from '../../agent/uplink/index.js';
import { startBroker } from '../support/broker.js';
import { PlatformClient, gasReading, openTempOutbox, profileUplink, recordingHandler, type TempOutbox } from '../support/platform-profile.js';
import { until } from '../support/until.js';
import { FaultProxy } from './fault-proxy.js';

// The ThingsBoard profile through the real Uplink, a real outbox on disk and a real broker. The platform side is
// a plain MQTT client that reads the gateway API's JSON itself.

const channels: BirthChannel[] = [
  { id: 'tank1.ch4', deviceId: 'tank1', indicator: 'HJ_CH4', unit: '%LEL' },
  { id: 'tank1.h2s', deviceId: 'tank1', indicator: 'HJ_H2S', unit: 'ppm' },
  { id: 'rock1.crack', deviceId: 'rock1', indicator: 'L1_LF', unit: 'mm' },
];
const options = thingsboardOptions.parse({ devices: { tank1: { name: 'Tank 1 gas', type: 'gas-probe' } } });

interface Point {
  device: string;
  ts: number;
  key: string;
  value: unknown;
}

/** Every telemetry value the platform received on v1/gateway/telemetry, in arrival order. */
function telemetry(platform: PlatformClient): Point[] {
  return platform.on('v1/gateway/telemetry').flatMap((m) => {
    const body = JSON.parse(m.text) as Record<string, Array<{ ts: number; values: Record<string, unknown> }>>;
    return Object.entries(body).flatMap(([device, entries]) => entries.flatMap((e) => Object.entries(e.values).map(([key, value]) => ({ device, ts: e.ts, key, value }))));
  });
}

/** Gateway replies on v1/gateway/rpc (the requests the platform sent come back on the same topic too). */
function replies(platform: PlatformClient): Array<{ text: string; id: unknown }> {
  return platform.on('v1/gateway/rpc').flatMap((m) => {
    let body: { id?: unknown; data?: { method?: unknown } } | null;
    try {
      body = JSON.parse(m.text) as typeof body;
    } catch {
      return []; // the garbage the test itself sends
    }
    return typeof body === 'object' && body !== null && !Array.isArray(body) && 'id' in body && body.data?.method === undefined ? [{ text: m.text, id: body.id }] : [];
  });
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(viaProxy = false): Promise<{ proxy: FaultProxy | undefined; platform: PlatformClient; store: TempOutbox; uplink: Uplink; calls: string[] }> {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const proxy = viaProxy ? await FaultProxy.start(broker.port) : undefined;
  if (proxy) cleanups.push(() => proxy.close());
  const platform = await PlatformClient.connect(broker, ['v1/#']);
  cleanups.push(() => platform.close());
  const store = await openTempOutbox();
  cleanups.push(() => store.close());
  const { handler, calls } = recordingHandler(['tank1.ch4', 'tank1.h2s', 'rock1.crack'], ['fan1']);
  const uplink = profileUplink({
    broker: proxy ? { ...broker, url: proxy.url } : broker,
    outbox: store.outbox,
    channels,
    profile: (ctx) => createThingsboardProfile(ctx, options, channels),
    // The gateway device's access token is the MQTT user name.
    credentials: { username: 'GATEWAY_ACCESS_TOKEN' },
    commands: { handler, allowedActions: THINGSBOARD_ACTIONS, requireSignature: 'never' },
  });
  cleanups.push(() => uplink.stop(300));
  uplink.start();
  await until(() => platform.on('v1/devices/me/attributes').some((m) => m.text.includes('"online":true')), 20_000, 'the gateway online');
  return { proxy, platform, store, uplink, calls };
}

const stamp = (wallTs: number) => ({ wallTs, monoTs: performance.now(), clockSynced: true });

describe('ThingsBoard over a real broker', () => {
  it('connects every device, sends telemetry with ts, disconnects a silent device and reconnects it, disconnects all on shutdown', async () => {
    const { platform, store, uplink } = await setup();
    expect(platform.on('v1/gateway/connect').map((m) => JSON.parse(m.text) as unknown)).toEqual([
      { device: 'Tank 1 gas', type: 'gas-probe' },
      { device: 'rock1', type: 'default' },
    ]);
    const attributes = JSON.parse(platform.on('v1/gateway/attributes')[0]?.text ?? '{}') as Record<string, Record<string, unknown>>;
    expect(attributes['Tank 1 gas']).toMatchObject({ 'tank1.ch4_indicator': 'HJ_CH4', 'tank1.ch4_unit': '%LEL', agentVersion: '1.2.3' });

    const t0 = Date.now() - 5000;
    store.outbox.append('telemetry', gasReading('tank1.ch4', 'tank1', 4.5), stamp(t0));
    store.outbox.append('telemetry', gasReading('rock1.crack', 'rock1', 0.75, { unit: 'mm' }), stamp(t0 + 1));
    await until(() => telemetry(platform).some((p) => p.key === 'rock1.crack'), 20_000, 'telemetry');
    expect(telemetry(platform)).toEqual([
      { device: 'Tank 1 gas', ts: t0, key: 'tank1.ch4', value: 4.5 },
      { device: 'Tank 1 gas', ts: t0, key: 'tank1.ch4_quality', value: 'good' },
      { device: 'rock1', ts: t0 + 1, key: 'rock1.crack', value: 0.75 },
      { device: 'rock1', ts: t0 + 1, key: 'rock1.crack_quality', value: 'good' },
    ]);

    store.outbox.append('telemetry', gasReading('tank1.ch4', 'tank1', null), stamp(t0 + 2));
    store.outbox.append('telemetry', gasReading('tank1.h2s', 'tank1', null), stamp(t0 + 3));
    await until(() => platform.on('v1/gateway/disconnect').length > 0, 20_000, 'the silent device disconnected');
    expect(platform.on('v1/gateway/disconnect').map((m) => m.text)).toEqual(['{"device":"Tank 1 gas"}']);
    store.outbox.append('telemetry', gasReading('tank1.h2s', 'tank1', 1), stamp(t0 + 4));
    await until(() => platform.on('v1/gateway/connect').length === 3, 20_000, 'the device connected again');
    expect(platform.on('v1/gateway/connect')[2]?.text).toBe('{"device":"Tank 1 gas","type":"gas-probe"}');
    // No reading claims a value it does not have.
    expect(telemetry(platform).filter((p) => p.ts === t0 + 2 || p.ts === t0 + 3)).toEqual([
      { device: 'Tank 1 gas', ts: t0 + 2, key: 'tank1.ch4_quality', value: 'bad:timeout' },
      { device: 'Tank 1 gas', ts: t0 + 3, key: 'tank1.h2s_quality', value: 'bad:timeout' },
    ]);

    await until(() => store.outbox.stats().records === 0, 20_000, 'outbox acked');
    await uplink.stop(2000);
    await until(() => platform.on('v1/devices/me/attributes').some((m) => m.text === '{"online":false}'), 20_000, 'offline on shutdown');
    expect(platform.on('v1/gateway/disconnect').map((m) => m.text)).toEqual(['{"device":"Tank 1 gas"}', '{"device":"Tank 1 gas"}', '{"device":"rock1"}']);
  });

  it('broker unreachable while readings are recorded, then back: every reading arrives, in order, with its original ts', async () => {
    const { proxy, platform, store, uplink } = await setup(true);
    await proxy?.down();
    await until(() => uplink.stats().state !== 'online', 20_000, 'the uplink notices the outage');
    const t0 = Date.now() - 120_000;
    const count = 40;
    for (let i = 0; i < count; i++) store.outbox.append('telemetry', gasReading('rock1.crack', 'rock1', i / 4), stamp(t0 + i * 1000));
    store.outbox.append(
      'event',
      { type: 'crack-grade', channelId: 'rock1.crack', grade: 'yellow', value: 9.75, unit: 'mm', rule: 'rock1.crack >= 9.5 mm (yellow)', wallTs: t0 + 40_000, monoTs: 1, clockSynced: true },
      stamp(t0 + 40_000),
    );
    await proxy?.up();
    await until(() => telemetry(platform).some((p) => p.key === 'event'), 30_000, 'the backlog replayed');
    await until(() => store.outbox.stats().records === 0, 20_000, 'outbox acked');
    const values = telemetry(platform).filter((p) => p.key === 'rock1.crack');
    expect(values.map((p) => p.value)).toEqual(Array.from({ length: count }, (_, i) => i / 4));
    expect(values.map((p) => p.ts)).toEqual(Array.from({ length: count }, (_, i) => t0 + i * 1000));
    expect(telemetry(platform).filter((p) => p.key.startsWith('event'))).toEqual([
      { device: 'rock1', ts: t0 + 40_000, key: 'event', value: 'crack-grade' },
      { device: 'rock1', ts: t0 + 40_000, key: 'event_rule', value: 'rock1.crack >= 9.5 mm (yellow)' },
      { device: 'rock1', ts: t0 + 40_000, key: 'event_channel', value: 'rock1.crack' },
      { device: 'rock1', ts: t0 + 40_000, key: 'event_indicator', value: 'L1_LF' },
      { device: 'rock1', ts: t0 + 40_000, key: 'event_grade', value: 'yellow' },
      { device: 'rock1', ts: t0 + 40_000, key: 'event_value', value: 9.75 },
      { device: 'rock1', ts: t0 + 40_000, key: 'event_unit', value: 'mm' },
    ]);
  });

  it('runs RPC through the command gate and replies on v1/gateway/rpc; malformed or disallowed requests get success:false, garbage changes nothing', async () => {
    const { platform, uplink, calls } = await setup();
    const rpc = async (request: Record<string, unknown>, id: unknown): Promise<string> => {
      const before = replies(platform).filter((r) => r.id === id).length;
      await platform.publish('v1/gateway/rpc', JSON.stringify(request));
      await until(() => replies(platform).filter((r) => r.id === id).length > before, 20_000, `the reply to ${String(id)}`);
      return replies(platform).filter((r) => r.id === id)[before]?.text ?? '';
    };

    expect(await rpc({ device: 'Tank 1 gas', data: { id: 1, method: 'acknowledge', params: { channel: 'tank1.ch4' } } }, 1)).toBe(
      '{"device":"Tank 1 gas","id":1,"data":{"success":true,"message":"acknowledged 1 alarm(s)"}}',
    );
    expect(calls).toEqual([expect.stringMatching(/^acknowledge tank1\.ch4 by platform:Tank 1 gas#1@\d+$/)]);

    // Garbage without a device or id cannot be answered: it is refused, and the gateway goes on.
    await platform.publish('v1/gateway/rpc', '{"device":');
    await platform.publish('v1/gateway/rpc', '[]');
    expect(await rpc({ device: 'Tank 1 gas', data: { id: 2 } }, 2)).toBe(
      '{"device":"Tank 1 gas","id":2,"data":{"success":false,"reason":"malformed","message":"data.method: must be a non-empty string"}}',
    );
    expect(await rpc({ device: 'rock1', data: { id: 3, method: 'force', params: { output: 'fan1', state: 'on', for: '10m' } } }, 3)).toBe(
      '{"device":"rock1","id":3,"data":{"success":false,"reason":"unsupported","message":"\\"force\\" is not allowed from this platform (allowed: acknowledge, set-baseline)"}}',
    );
    expect(await rpc({ device: 'rock1', data: { id: 4, method: 'reboot' } }, 4)).toMatch(/^\{"device":"rock1","id":4,"data":\{"success":false,"reason":"unsupported","message":"unknown action \\"reboot\\"/);
    const wrongType = JSON.parse(await rpc({ device: 'rock1', data: { id: 5, method: 'setBaseline', params: { value: 'zero' } } }, 5)) as { data: { success: boolean; reason: string; message: string } };
    expect(wrongType.data).toMatchObject({ success: false, reason: 'invalid' });
    expect(wrongType.data.message).toMatch(/^value: /);
    expect(await rpc({ device: 'Ghost', data: { id: 'g-6', method: 'acknowledge' } }, 'g-6')).toBe(
      '{"device":"Ghost","id":"g-6","data":{"success":false,"reason":"malformed","message":"device \\"Ghost\\" is not behind this gateway"}}',
    );
    // A redelivery of request 1 is not run twice.
    expect(JSON.parse(await rpc({ device: 'Tank 1 gas', data: { id: 1, method: 'acknowledge', params: { channel: 'tank1.ch4' } } }, 1))).toMatchObject({
      data: { success: false, reason: 'duplicate' },
    });
    expect(await rpc({ device: 'rock1', data: { id: 7, method: 'setBaseline', params: { value: 0.5 } } }, 7)).toBe(
      '{"device":"rock1","id":7,"data":{"success":true,"message":"rock1.crack baseline set to 0.5"}}',
    );
    expect(calls.length).toBe(2);
    expect(calls[1]).toMatch(/^set-baseline rock1\.crack 0\.5 by platform:rock1#7@\d+$/);
    const stats = uplink.stats().commands;
    expect(stats.received).toBe(stats.done + stats.refused + stats.failed);
    expect(stats.refused).toBeGreaterThanOrEqual(8);
    expect(uplink.stats().state).toBe('online');
  });
});
