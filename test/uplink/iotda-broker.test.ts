import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { iotdaOptions } from '../../config/schema/index.js';
import { IOTDA_ACTIONS, createIotdaProfile } from '../../agent/uplink/profiles/iotda/index.js';
import { Secret, type BirthChannel, type Uplink } from '../../agent/uplink/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { PlatformClient, gasReading, openTempOutbox, profileUplink, recordingHandler, type TempOutbox } from '../support/platform-profile.js';
import { until } from '../support/until.js';
import { FaultProxy } from './fault-proxy.js';

// The IoTDA profile through the real Uplink, a real outbox on disk and a real broker. The platform side is a
// plain MQTT client that parses IoTDA's JSON and time format itself.

const GW = 'gw_0001';
const SECRET = 'device-secret-42';
const SUB_REPORT = `$oc/devices/${GW}/sys/gateway/sub_devices/properties/report`;
const EVENTS_UP = `$oc/devices/${GW}/sys/events/up`;
const request = (rid: string): string => `$oc/devices/${GW}/sys/commands/request_id=${rid}`;
const response = (rid: string): string => `$oc/devices/${GW}/sys/commands/response/request_id=${rid}`;

const channels: BirthChannel[] = [
  { id: 'tank1.ch4', deviceId: 'tank1', indicator: 'HJ_CH4', unit: '%LEL' },
  { id: 'rock1.crack', deviceId: 'rock1', indicator: 'L1_LF', unit: 'mm' },
];
const options = iotdaOptions.parse({
  gatewayDeviceId: GW,
  devices: { tank1: 'prod_tank1' },
  services: { 'tank1.ch4': { service: 'Gas', property: 'ch4' }, 'rock1.crack': { service: 'Crack', property: 'crack' } },
});

/** IoTDA's "yyyyMMdd'T'HHmmss'Z'", parsed back to ms UTC (the platform's reading of event_time). */
function parseEventTime(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new Error(`not an IoTDA event_time: ${text}`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

interface PlatformReading {
  device: string;
  service: string;
  property: string;
  value: unknown;
  time: number;
}

/** Every property value the platform received in sub-device reports, in arrival order. */
function received(platform: PlatformClient): PlatformReading[] {
  return platform.on(SUB_REPORT).flatMap((m) => {
    const body = JSON.parse(m.text) as { devices: Array<{ device_id: string; services: Array<{ service_id: string; properties: Record<string, unknown>; event_time: string }> }> };
    return body.devices.flatMap((d) =>
      d.services.flatMap((s) => Object.entries(s.properties).map(([property, value]) => ({ device: d.device_id, service: s.service_id, property, value, time: parseEventTime(s.event_time) }))),
    );
  });
}

/** The password IoTDA expects this hour, from the documented rule (HMAC-SHA256, key = UTC YYYYMMDDHH). */
function currentPassword(): { hour: string; password: string } {
  const hour = new Date().toISOString().replace(/[-T:]/g, '').slice(0, 10);
  return { hour, password: createHmac('sha256', hour).update(SECRET).digest('hex') };
}

/** A password valid for the rest of the test: not in the last half-minute of an hour. */
async function stableHour(): Promise<void> {
  const now = new Date();
  if (now.getUTCMinutes() === 59 && now.getUTCSeconds() >= 30) await new Promise((resolve) => setTimeout(resolve, (61 - now.getUTCSeconds()) * 1000));
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(opts: { viaProxy?: boolean } = {}): Promise<{
  broker: TestBroker;
  proxy: FaultProxy | undefined;
  platform: PlatformClient;
  store: TempOutbox;
  uplink: Uplink;
  calls: string[];
}> {
  await stableHour();
  const { password } = currentPassword();
  // The broker lets in only the gateway's derived identity: the profile's connectIdentity is what logs in.
  const broker = await startBroker({ auth: { username: GW, password } });
  cleanups.push(() => broker.close());
  const proxy = opts.viaProxy ? await FaultProxy.start(broker.port) : undefined;
  if (proxy) cleanups.push(() => proxy.close());
  const platform = await PlatformClient.connect(broker, [`$oc/devices/${GW}/sys/#`], { username: GW, password });
  cleanups.push(() => platform.close());
  const store = await openTempOutbox();
  cleanups.push(() => store.close());
  const { handler, calls } = recordingHandler(['tank1.ch4', 'rock1.crack'], ['fan1']);
  const uplink = profileUplink({
    broker: proxy ? { ...broker, url: proxy.url } : broker,
    outbox: store.outbox,
    channels,
    profile: (ctx) => createIotdaProfile(ctx, options, channels),
    credentials: { username: GW, password: new Secret(SECRET) },
    commands: { handler, allowedActions: IOTDA_ACTIONS, requireSignature: 'never' },
  });
  cleanups.push(() => uplink.stop(300));
  uplink.start();
  await until(() => platform.on(EVENTS_UP).some((m) => m.text.includes('"ONLINE"')), 20_000, 'sub-devices ONLINE');
  return { broker, proxy, platform, store, uplink, calls };
}

describe('IoTDA over a real broker', () => {
  it('logs in with the derived identity, reports sub-device properties and alarms, and says OFFLINE on shutdown', async () => {
    const { platform, store, uplink } = await setup();
    const online = JSON.parse(platform.on(EVENTS_UP)[0]?.text ?? '{}') as { services: Array<{ paras: { device_statuses: unknown } }> };
    expect(online.services[0]?.paras.device_statuses).toEqual([
      { device_id: 'prod_tank1', status: 'ONLINE' },
      { device_id: 'rock1', status: 'ONLINE' },
    ]);

    const t0 = Math.floor(Date.now() / 1000) * 1000 - 5000;
    store.outbox.append('telemetry', gasReading('tank1.ch4', 'tank1', 7.5), { wallTs: t0, monoTs: performance.now(), clockSynced: true });
    store.outbox.append('telemetry', gasReading('rock1.crack', 'rock1', 2.25, { unit: 'mm' }), { wallTs: t0 + 1000, monoTs: performance.now(), clockSynced: true });
    store.outbox.append('telemetry', gasReading('tank1.ch4', 'tank1', null), { wallTs: t0 + 2000, monoTs: performance.now(), clockSynced: true });
    store.outbox.append(
      'event',
      { type: 'alarm-raised', channelId: 'tank1.ch4', level: 'L2', value: 55, unit: '%LEL', setpoint: 50, rule: 'tank1.ch4 >= 50 %LEL (L2)', wallTs: t0 + 3000, monoTs: 1, clockSynced: true },
      { wallTs: t0 + 3000, monoTs: performance.now(), clockSynced: true },
    );
    await until(() => received(platform).some((r) => r.service === 'Alarm'), 20_000, 'the alarm report');
    expect(received(platform)).toEqual([
      { device: 'prod_tank1', service: 'Gas', property: 'ch4', value: 7.5, time: t0 },
      { device: 'rock1', service: 'Crack', property: 'crack', value: 2.25, time: t0 + 1000 },
      // the bad reading (t0 + 2000) has no value: nothing claims one
      { device: 'prod_tank1', service: 'Alarm', property: 'event', value: 'alarm-raised', time: t0 + 3000 },
      { device: 'prod_tank1', service: 'Alarm', property: 'rule', value: 'tank1.ch4 >= 50 %LEL (L2)', time: t0 + 3000 },
      { device: 'prod_tank1', service: 'Alarm', property: 'channel', value: 'tank1.ch4', time: t0 + 3000 },
      { device: 'prod_tank1', service: 'Alarm', property: 'indicator', value: 'HJ_CH4', time: t0 + 3000 },
      { device: 'prod_tank1', service: 'Alarm', property: 'level', value: 'L2', time: t0 + 3000 },
      { device: 'prod_tank1', service: 'Alarm', property: 'value', value: 55, time: t0 + 3000 },
      { device: 'prod_tank1', service: 'Alarm', property: 'unit', value: '%LEL', time: t0 + 3000 },
      { device: 'prod_tank1', service: 'Alarm', property: 'setpoint', value: 50, time: t0 + 3000 },
    ]);
    await until(() => store.outbox.stats().records === 0, 20_000, 'outbox acked');

    await uplink.stop(2000);
    await until(() => platform.on(EVENTS_UP).some((m) => m.text.includes('"OFFLINE"')), 20_000, 'OFFLINE on shutdown');
    const offline = JSON.parse(platform.on(EVENTS_UP).find((m) => m.text.includes('"OFFLINE"'))?.text ?? '{}') as { services: Array<{ event_type: string; event_time: string }> };
    expect(offline.services[0]?.event_type).toBe('sub_device_update_status');
    expect(Math.abs(parseEventTime(offline.services[0]?.event_time ?? '') - Date.now())).toBeLessThan(3_600_000);
  });

  it('broker unreachable while readings are recorded, then back: every reading arrives once, in order, with its original time', async () => {
    const { proxy, platform, store, uplink } = await setup({ viaProxy: true });
    await proxy?.down();
    await until(() => uplink.stats().state !== 'online', 20_000, 'the uplink notices the outage');
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 120_000;
    const count = 40;
    for (let i = 0; i < count; i++) {
      store.outbox.append('telemetry', gasReading('tank1.ch4', 'tank1', i), { wallTs: t0 + i * 1000, monoTs: performance.now(), clockSynced: true });
    }
    await proxy?.up();
    await until(() => new Set(received(platform).map((r) => r.value)).size >= count, 30_000, 'the backlog replayed');
    await until(() => store.outbox.stats().records === 0, 20_000, 'outbox acked');
    const got = received(platform);
    expect(got.map((r) => r.value)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(got.map((r) => r.time)).toEqual(Array.from({ length: count }, (_, i) => t0 + i * 1000));
    expect(got.every((r) => r.device === 'prod_tank1' && r.service === 'Gas' && r.property === 'ch4')).toBe(true);
  });

  it('runs commands by request id and answers each on its response topic, refusing malformed and disallowed ones', async () => {
    const { platform, calls } = await setup();
    const ask = async (rid: string, body: string): Promise<string> => {
      await platform.publish(request(rid), body);
      await until(() => platform.on(response(rid)).length > 0, 20_000, `the response to ${rid}`);
      return platform.on(response(rid))[0]?.text ?? '';
    };
    const answer = (code: 0 | 1, paras: string): string => `{"result_code":${code},"response_name":"COMMAND_RESPONSE","paras":${paras}}`;

    expect(await ask('r-1', JSON.stringify({ object_device_id: 'prod_tank1', service_id: 'Control', command_name: 'acknowledge', paras: { channel: 'tank1.ch4' } }))).toBe(
      answer(0, '{"result":"done","message":"acknowledged 1 alarm(s)"}'),
    );
    expect(calls).toEqual(['acknowledge tank1.ch4 by platform:r-1']);

    expect(await ask('r-2', '{"command_name":"acknowledge",')).toBe(answer(1, '{"result":"refused","reason":"malformed","message":"not JSON"}'));
    expect(await ask('r-3', JSON.stringify({ command_name: 'force', paras: { output: 'fan1', state: 'on', for: '10m' } }))).toBe(
      answer(1, '{"result":"refused","reason":"unsupported","message":"\\"force\\" is not allowed from this platform (allowed: acknowledge, set-baseline)"}'),
    );
    expect(await ask('r-4', JSON.stringify({ command_name: 'set_baseline', paras: { channel: 'nowhere' } }))).toBe(
      answer(1, '{"result":"refused","reason":"invalid","message":"no channel \\"nowhere\\""}'),
    );
    const wrongType = JSON.parse(await ask('r-5', JSON.stringify({ command_name: 'set_baseline', paras: { channel: 'tank1.ch4', value: 'zero' } }))) as {
      result_code: number;
      paras: { reason: string; message: string };
    };
    expect(wrongType).toMatchObject({ result_code: 1, paras: { reason: 'invalid' } });
    expect(wrongType.paras.message).toMatch(/^value: /);
    expect(await ask('r-6', JSON.stringify({ command_name: 'reboot' }))).toMatch(/^\{"result_code":1,"response_name":"COMMAND_RESPONSE","paras":\{"result":"refused","reason":"unsupported","message":"unknown action \\"reboot\\"/);
    expect(await ask('r-7', JSON.stringify({ object_device_id: 'prod_tank1', command_name: 'acknowledge' }))).toBe(
      answer(1, '{"result":"refused","reason":"malformed","message":"paras.channel: required for a sub-device (its channels: tank1.ch4)"}'),
    );
    // The same request id again (a redelivery) is not run twice.
    await platform.publish(request('r-1'), JSON.stringify({ object_device_id: 'prod_tank1', command_name: 'acknowledge', paras: { channel: 'tank1.ch4' } }));
    await until(() => platform.on(response('r-1')).length > 1, 20_000, 'the duplicate answer');
    expect(JSON.parse(platform.on(response('r-1'))[1]?.text ?? '{}')).toMatchObject({ result_code: 1, paras: { result: 'refused', reason: 'duplicate' } });

    expect(await ask('r-8', JSON.stringify({ command_name: 'set_baseline', paras: { channel: 'rock1.crack', value: 0.5 } }))).toMatch(/^\{"result_code":0,/);
    expect(calls).toEqual(['acknowledge tank1.ch4 by platform:r-1', 'set-baseline rock1.crack 0.5 by platform:r-8']);
  });
});
