import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { iotdaOptions } from '../../config/schema/index.js';
import { createIotdaProfile } from '../../agent/uplink/profiles/iotda/index.js';
import { Secret, detachedProfileHost, type BirthChannel, type StateStamp, type EventDelivery, type OutgoingMessage, type PlatformCommand, type TelemetryDelivery } from '../../agent/uplink/index.js';
import { loadSiteText } from '../../config/index.js';
import { fixtureProfiles } from '../config/helpers.js';
import { gasReading } from '../support/platform-profile.js';

// Golden messages: the expected topics and bodies below are written by hand from IoTDA's device MQTT API
// (docs/platforms/iotda.md), not captured from the encoder.

const T = Date.UTC(2026, 10, 25, 8, 0, 0, 250); // 2026-11-25 08:00:00.250 UTC
const GW = 'gw_0001';

const channels: BirthChannel[] = [
  { id: 'tank1.ch4', deviceId: 'tank1', indicator: 'HJ_CH4', unit: '%LEL' },
  { id: 'tank1.h2s', deviceId: 'tank1', indicator: 'HJ_H2S', unit: 'ppm' },
  { id: 'tank1.o2', deviceId: 'tank1', indicator: 'HJ_O2', unit: '%VOL' },
  { id: 'rock1.crack', deviceId: 'rock1', indicator: 'L1_LF', unit: 'mm' },
];

function profile(extra: Record<string, unknown> = {}, now: StateStamp = { ts: T, clock: 'synced' }) {
  const options = iotdaOptions.parse({
    gatewayDeviceId: GW,
    devices: { tank1: 'prod_tank1', rock1: 'prod_rock1' },
    services: { 'tank1.ch4': { service: 'Gas', property: 'ch4' }, 'tank1.h2s': { service: 'Gas', property: 'h2s' }, 'rock1.crack': { service: 'Crack', property: 'crack' } },
    ...extra,
  });
  return createIotdaProfile({ siteId: 's', gatewayId: 'g', topicPrefix: 'vigil', host: detachedProfileHost(() => now) }, options, channels);
}

let seq = 0;
function tel(channelId: string, value: number | null, ts: number, extra: Parameters<typeof gasReading>[3] = {}): TelemetryDelivery {
  const device = channelId.split('.')[0] ?? channelId;
  return { stream: 'telemetry', seq: ++seq, ts, clock: 'synced', historical: false, reading: gasReading(channelId, device, value, extra) };
}

function many(out: OutgoingMessage | readonly OutgoingMessage[]): readonly OutgoingMessage[] {
  return Array.isArray(out) ? out : [out as OutgoingMessage];
}

function wire(out: OutgoingMessage | readonly OutgoingMessage[]): Array<[string, string]> {
  return many(out).map((m) => [m.topic, m.payload.toString('utf8')]);
}

const SUB_REPORT = `$oc/devices/${GW}/sys/gateway/sub_devices/properties/report`;
const EVENTS_UP = `$oc/devices/${GW}/sys/events/up`;

describe('IoTDA golden messages', () => {
  const batch = (): TelemetryDelivery[] => [
    tel('tank1.ch4', 12.5, T),
    tel('tank1.h2s', 3, T),
    tel('rock1.crack', 1.25, T, { quality: 'uncertain', reason: 'stuck' }),
    tel('tank1.o2', 20.9, T), // not mapped: not sent
    tel('tank1.ch4', null, T + 1000), // bad: never a value
  ];

  it('telemetry: one batch report grouped by sub-device and service, event_time in yyyyMMddTHHmmssZ, bad readings without a value', () => {
    expect(wire(profile().encodeTelemetry(batch()))).toEqual([
      [
        SUB_REPORT,
        '{"devices":[' +
          '{"device_id":"prod_tank1","services":[{"service_id":"Gas","properties":{"ch4":12.5,"h2s":3},"event_time":"20261125T080000Z"}]},' +
          '{"device_id":"prod_rock1","services":[{"service_id":"Crack","properties":{"crack":1.25},"event_time":"20261125T080000Z"}]}' +
          ']}',
      ],
    ]);
  });

  it('telemetry with quality properties: "<property>_quality" beside each value, the bad reading as its quality alone', () => {
    expect(wire(profile({ qualityProperties: true }).encodeTelemetry(batch()))).toEqual([
      [
        SUB_REPORT,
        '{"devices":[' +
          '{"device_id":"prod_tank1","services":[' +
          '{"service_id":"Gas","properties":{"ch4":12.5,"ch4_quality":"good","h2s":3,"h2s_quality":"good"},"event_time":"20261125T080000Z"},' +
          '{"service_id":"Gas","properties":{"ch4_quality":"bad:timeout"},"event_time":"20261125T080001Z"}]},' +
          '{"device_id":"prod_rock1","services":[{"service_id":"Crack","properties":{"crack":1.25,"crack_quality":"uncertain:stuck"},"event_time":"20261125T080000Z"}]}' +
          ']}',
      ],
    ]);
  });

  it('two readings of one channel in the same second go in two entries; millisecond time on request; indicator codes as property names', () => {
    const p = profile({ eventTime: 'milliseconds', propertyNames: 'indicator', services: { 'tank1.ch4': { service: 'Gas' }, 'tank1.h2s': { service: 'Gas' } } });
    expect(wire(p.encodeTelemetry([tel('tank1.ch4', 10, T), tel('tank1.ch4', 11, T + 500), tel('tank1.h2s', 2, T)]))).toEqual([
      [
        SUB_REPORT,
        '{"devices":[{"device_id":"prod_tank1","services":[' +
          '{"service_id":"Gas","properties":{"HJ_CH4":10,"HJ_H2S":2},"event_time":"2026-11-25T08:00:00.250Z"},' +
          '{"service_id":"Gas","properties":{"HJ_CH4":11},"event_time":"2026-11-25T08:00:00.750Z"}]}]}',
      ],
    ]);
  });

  it('a batch with nothing mapped is nothing for IoTDA (acked as done)', () => {
    expect(many(profile().encodeTelemetry([tel('tank1.o2', 20.9, T)]))).toEqual([]);
  });

  it('events: a channel event as an Alarm report of its sub-device; an output event on the gateway itself', () => {
    const event = (e: Partial<EventDelivery['event']>): EventDelivery => ({
      stream: 'event',
      seq: ++seq,
      ts: T,
      clock: 'synced',
      historical: true,
      event: { type: 'alarm-raised', value: null, rule: 'r', wallTs: T, monoTs: 1, clockSynced: true, ...e },
    });
    const p = profile();
    expect(wire(p.encodeEvent(event({ type: 'alarm-raised', channelId: 'tank1.ch4', level: 'L1', value: 25, unit: '%LEL', setpoint: 20, rule: 'tank1.ch4 >= 20 %LEL for 5 s (L1)' })))).toEqual([
      [
        SUB_REPORT,
        '{"devices":[{"device_id":"prod_tank1","services":[{"service_id":"Alarm","properties":' +
          '{"event":"alarm-raised","rule":"tank1.ch4 >= 20 %LEL for 5 s (L1)","channel":"tank1.ch4","indicator":"HJ_CH4","level":"L1","value":25,"unit":"%LEL","setpoint":20},' +
          '"event_time":"20261125T080000Z"}]}]}',
      ],
    ]);
    expect(wire(p.encodeEvent(event({ type: 'output-on', outputId: 'fan1', value: 1, rule: 'tank1.ch4 L1', cause: 'alarm' })))).toEqual([
      [`$oc/devices/${GW}/sys/properties/report`, '{"services":[{"service_id":"Alarm","properties":{"event":"output-on","rule":"tank1.ch4 L1","output":"fan1","value":1,"cause":"alarm"},"event_time":"20261125T080000Z"}]}'],
    ]);
    expect(many(profile({ alarmService: null }).encodeEvent(event({ channelId: 'tank1.ch4' })))).toEqual([]);
  });

  it('birth: sub-devices ONLINE and the agent version; will: OFFLINE without a time; shutdown: OFFLINE with one', () => {
    const p = profile();
    const online =
      '{"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status","event_time":"20261125T080000Z",' +
      '"paras":{"device_statuses":[{"device_id":"prod_tank1","status":"ONLINE"},{"device_id":"prod_rock1","status":"ONLINE"}]}}]}';
    expect(wire(p.encodeBirth({ ts: T, clock: 'synced', version: '1.2.3', configHash: 'x', channels, latest: [] }))).toEqual([
      [EVENTS_UP, online],
      [EVENTS_UP, '{"services":[{"service_id":"$sdk_info","event_type":"sdk_info_report","event_time":"20261125T080000Z","paras":{"sw_version":"1.2.3"}}]}'],
    ]);
    const offline = (time: string): string =>
      `{"services":[{"service_id":"$sub_device_manager","event_type":"sub_device_update_status",${time}` +
      '"paras":{"device_statuses":[{"device_id":"prod_tank1","status":"OFFLINE"},{"device_id":"prod_rock1","status":"OFFLINE"}]}}]}';
    expect(wire(p.encodeWill())).toEqual([[EVENTS_UP, offline('')]]);
    expect(wire(p.encodeShutdown({ ts: T + 60_000, clock: 'synced' }))).toEqual([[EVENTS_UP, offline('"event_time":"20261125T080100Z",')]]);
    expect(many(p.encodeWill()).every((m) => !m.retain)).toBe(true);
  });
});

describe('IoTDA connect identity', () => {
  // The rule (IoTDA "Device Connection Authentication"): password = HMAC-SHA256 with the UTC hour YYYYMMDDHH as
  // the key and the device secret as the message, lower-case hex; computed here independently.
  const expected = (hour: string, secret: string): string => createHmac('sha256', hour).update(secret, 'utf8').digest('hex');

  it('derives the client id and password from the secret and the UTC hour', () => {
    const at = Date.UTC(2025, 3, 14, 1, 59, 59); // 2025-04-14 01:59:59 UTC
    const p = profile({}, { ts: at, clock: 'synced' });
    const identity = p.connectIdentity?.({ clientId: 'configured', credentials: { username: GW, password: new Secret('12345678') } });
    expect(identity?.clientId).toBe(`${GW}_0_1_2025041401`);
    expect(identity?.credentials.username).toBe(GW);
    expect(identity?.credentials.password?.revealText()).toBe(expected('2025041401', '12345678'));
    // The worked example in Huawei's documentation for this secret and hour.
    expect(identity?.credentials.password?.revealText()).toBe('c75150e6cb841417396819e4d2ee4358a416344a03a083e3a8567074ddec820a');
  });

  it('asks IoTDA to check the hour only while our clock is synchronised, unless told otherwise', () => {
    const at = Date.UTC(2026, 0, 2, 23, 5);
    const configured = { clientId: 'x', credentials: { username: GW, password: new Secret('s3cret\u00e9') } };
    expect(profile({}, { ts: at, clock: 'unsynced' }).connectIdentity?.(configured).clientId).toBe(`${GW}_0_0_2026010223`);
    expect(profile({ timestampCheck: 'always' }, { ts: at, clock: 'unsynced' }).connectIdentity?.(configured).clientId).toBe(`${GW}_0_1_2026010223`);
    expect(profile({ timestampCheck: 'never' }, { ts: at, clock: 'synced' }).connectIdentity?.(configured).clientId).toBe(`${GW}_0_0_2026010223`);
    expect(profile({}, { ts: at, clock: 'synced' }).connectIdentity?.(configured).credentials.password?.revealText()).toBe(expected('2026010223', 's3cret\u00e9'));
  });

  it('without a secret it keeps the configured identity', () => {
    const configured = { clientId: 'x', credentials: {} };
    expect(profile().connectIdentity?.(configured)).toBe(configured);
  });
});

describe('IoTDA commands', () => {
  const topic = (rid: string): string => `$oc/devices/${GW}/sys/commands/request_id=${rid}`;
  const decode = (rid: string, body: unknown) => profile().decodeCommand(topic(rid), Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
  const command = (decoded: ReturnType<typeof decode>): PlatformCommand => {
    if (decoded.ok !== true) throw new Error(`not decoded: ${JSON.stringify(decoded)}`);
    return decoded.command;
  };

  it('maps command names and paras to operator commands, with request id, context and a 60 s expiry', () => {
    const ack = command(decode('r-1', { object_device_id: GW, service_id: 'Control', command_name: 'acknowledge', paras: {} }));
    expect(ack).toEqual({
      id: 'r-1',
      expiresAt: T + 60_000,
      command: { action: 'acknowledge', channel: '*' },
      action: 'acknowledge',
      topic: topic('r-1'),
      context: { requestId: 'r-1', commandName: 'acknowledge' },
    });
    expect(command(decode('r-2', { object_device_id: 'prod_tank1', command_name: 'set_baseline', paras: { channel: 'tank1.ch4', value: 0 } })).command).toEqual({
      channel: 'tank1.ch4',
      value: 0,
      action: 'set-baseline',
    });
    expect(command(decode('r-3', { command_name: 'force', paras: { output: 'fan1', state: 'on', for: '10m' } })).command).toEqual({ output: 'fan1', state: 'on', for: '10m', action: 'force' });
    // An unknown name goes on as its own action: the gate refuses it as unsupported.
    expect(command(decode('r-4', { command_name: 'reboot' })).action).toBe('reboot');
  });

  it('refuses malformed requests with the reason, keeping the request id to answer', () => {
    const failure = (rid: string, body: unknown) => {
      const d = decode(rid, body);
      if (d.ok !== false) throw new Error(`expected a failure: ${JSON.stringify(d)}`);
      return { id: d.id, error: d.error, context: d.context };
    };
    expect(failure('r-5', '{"command_name":')).toEqual({ id: 'r-5', error: 'not JSON', context: { requestId: 'r-5' } });
    expect(failure('r-6', [1]).error).toBe('not a JSON object');
    expect(failure('r-7', { paras: {} }).error).toBe('command_name: must be a non-empty string');
    expect(failure('r-8', { command_name: 'acknowledge', paras: 'all' }).error).toBe('paras: must be an object');
    expect(failure('r-9', { object_device_id: 'nobody', command_name: 'acknowledge' }).error).toBe('object_device_id "nobody" is neither this gateway nor one of its sub-devices');
    expect(failure('r-10', { object_device_id: 'prod_tank1', command_name: 'acknowledge' }).error).toBe(
      'paras.channel: required for a sub-device (its channels: tank1.ch4, tank1.h2s, tank1.o2)',
    );
    expect(failure('r-11', { object_device_id: 'prod_rock1', command_name: 'acknowledge', paras: { channel: 'tank1.ch4' } }).error).toBe(
      'paras.channel "tank1.ch4" is not on sub-device "prod_rock1" (its channels: rock1.crack)',
    );
    expect(failure('r-12', { command_name: 'silence', paras: { action: 'force' } }).error).toBe('paras.action: not allowed (the command_name is the action)');
  });

  it('ignores its own responses echoed on the subscription; answers nothing on a foreign topic', () => {
    const p = profile();
    expect(p.decodeCommand(`$oc/devices/${GW}/sys/commands/response/request_id=r-1`, Buffer.from('{}'))).toEqual({ ok: 'handled' });
    const foreign = p.decodeCommand('$oc/devices/other/sys/commands/request_id=r-1', Buffer.from('{}'));
    expect(foreign).toMatchObject({ ok: false, id: null });
    expect(p.encodeCommandResult({ id: null, status: 'refused', reason: 'malformed', message: 'x', topic: 'y', ts: T, clock: 'synced' })).toBeNull();
  });

  it('answers on the response topic of the request id: result_code 0 when done, 1 otherwise', () => {
    const p = profile();
    const result = (status: 'done' | 'refused', reason: 'malformed' | null, message: string) =>
      wire(p.encodeCommandResult({ id: 'r-1', status, reason, message, topic: topic('r-1'), ts: T, clock: 'synced', context: { requestId: 'r-1' } }) ?? []);
    const response = `$oc/devices/${GW}/sys/commands/response/request_id=r-1`;
    expect(result('refused', 'malformed', 'not JSON')).toEqual([[response, '{"result_code":1,"response_name":"COMMAND_RESPONSE","paras":{"result":"refused","reason":"malformed","message":"not JSON"}}']]);
    expect(result('done', null, 'acknowledged 1 alarm(s)')).toEqual([[response, '{"result_code":0,"response_name":"COMMAND_RESPONSE","paras":{"result":"done","message":"acknowledged 1 alarm(s)"}}']]);
  });
});

describe('IoTDA site configuration', () => {
  const site = (iotda: string): string => `
site: { id: s1, name: Test site, kind: septic-tank }
buses:
  - id: rs485
    serial: { path: /dev/vigil-test-port-a, baud: 9600 }
devices:
  - id: gas1
    bus: rs485
    unit: 1
    profile: fixture-gas
    channels: [{ id: tank1.ch4, register: concentration }]
  - id: gas2
    bus: rs485
    unit: 2
    profile: fixture-gas
    channels: [{ id: tank2.ch4, register: concentration }]
platforms:
  - id: iotda
    profile: iotda
    broker: { url: "mqtts://iotda.example:8883", usernameFile: /etc/vigil/id, passwordFile: /etc/vigil/secret }
    iotda:
${iotda}
`;
  const check = (iotda: string) => loadSiteText(site(iotda), '/srv/site.yaml', { profileDirs: [fixtureProfiles] });

  it('accepts the same service property on two sub-devices, with defaults applied', () => {
    const result = check(`      gatewayDeviceId: gw_1
      devices: { gas1: p_gas1, gas2: p_gas2 }
      services:
        tank1.ch4: { service: Gas, property: ch4 }
        tank2.ch4: { service: Gas, property: ch4 }`);
    expect(result.ok ? [] : result.errors.map((e) => e.message)).toEqual([]);
    if (!result.ok) return;
    const platform = result.site.platforms?.[0];
    expect(platform?.profile === 'iotda' ? platform.iotda : undefined).toMatchObject({
      propertyNames: 'channel',
      qualityProperties: false,
      alarmService: 'Alarm',
      timestampCheck: 'auto',
      eventTime: 'seconds',
    });
  });

  it('refuses one property of one sub-device given to two channels, unknown channels and devices, and an empty mapping', () => {
    const messages = (iotda: string): string[] => {
      const result = check(iotda);
      return result.ok ? [] : result.errors.map((e) => e.message);
    };
    expect(
      messages(`      gatewayDeviceId: gw_1
      devices: { gas1: same, gas2: same }
      services:
        tank1.ch4: { service: Gas, property: ch4 }
        tank2.ch4: { service: Gas, property: ch4 }`),
    ).toEqual(['service property "Gas.ch4 on same" is also given to "tank1.ch4"']);
    expect(
      messages(`      gatewayDeviceId: gw_1
      devices: { gas3: p }
      services: { tank9.ch4: { service: Gas } }`),
    ).toEqual(['no device "gas3"', 'no channel "tank9.ch4"']);
    expect(messages('      { gatewayDeviceId: gw_1, services: {} }').join()).toMatch(/at least one channel/);
  });
});
