import { describe, expect, it } from 'vitest';
import { thingsboardOptions } from '../../config/schema/index.js';
import { createThingsboardProfile } from '../../agent/uplink/profiles/thingsboard/index.js';
import { detachedProfileHost, type BirthChannel, type EventDelivery, type OutgoingMessage, type PlatformCommand, type StateStamp, type TelemetryDelivery } from '../../agent/uplink/index.js';
import { gasReading } from '../support/platform-profile.js';

// Golden messages: the expected topics and bodies are written by hand from ThingsBoard's gateway MQTT API
// (docs/platforms/thingsboard.md), not captured from the encoder. T = 2026-11-25 08:00:00.250 UTC.

const T = 1795593600250;

const channels: BirthChannel[] = [
  { id: 'tank1.ch4', deviceId: 'tank1', indicator: 'HJ_CH4', unit: '%LEL', name: 'Methane' },
  { id: 'tank1.h2s', deviceId: 'tank1', indicator: 'HJ_H2S', unit: 'ppm' },
  { id: 'rock1.crack', deviceId: 'rock1', indicator: 'L1_LF', unit: 'mm' },
];

function profile(extra: Record<string, unknown> = {}, now: () => StateStamp = () => ({ ts: T, clock: 'synced' })) {
  const options = thingsboardOptions.parse({ devices: { tank1: { name: 'Tank 1 gas', type: 'gas-probe' } }, ...extra });
  return createThingsboardProfile({ siteId: 's1', gatewayId: 'gw1', topicPrefix: 'vigil', host: detachedProfileHost(now) }, options, channels);
}

let seq = 0;
function tel(channelId: string, value: number | null, ts: number, extra: Parameters<typeof gasReading>[3] = {}, historical = false): TelemetryDelivery {
  const device = channelId.split('.')[0] ?? channelId;
  return { stream: 'telemetry', seq: ++seq, ts, clock: 'synced', historical, reading: gasReading(channelId, device, value, extra) };
}

function wire(out: OutgoingMessage | readonly OutgoingMessage[] | null): Array<[string, string]> {
  if (out === null) return [];
  return (Array.isArray(out) ? out : [out as OutgoingMessage]).map((m) => [m.topic, m.payload.toString('utf8')]);
}

describe('ThingsBoard golden messages', () => {
  it('birth: connect per field device with its type, client attributes per device, the gateway online', () => {
    expect(wire(profile().encodeBirth({ ts: T, clock: 'synced', version: '1.2.3', configHash: 'cafe', channels, latest: [] }))).toEqual([
      ['v1/gateway/connect', '{"device":"Tank 1 gas","type":"gas-probe"}'],
      ['v1/gateway/connect', '{"device":"rock1","type":"default"}'],
      [
        'v1/gateway/attributes',
        '{"Tank 1 gas":{"site":"s1","gateway":"gw1","vigilDevice":"tank1","agentVersion":"1.2.3",' +
          '"tank1.ch4_unit":"%LEL","tank1.ch4_indicator":"HJ_CH4","tank1.ch4_name":"Methane","tank1.h2s_unit":"ppm","tank1.h2s_indicator":"HJ_H2S"},' +
          '"rock1":{"site":"s1","gateway":"gw1","vigilDevice":"rock1","agentVersion":"1.2.3","rock1.crack_unit":"mm","rock1.crack_indicator":"L1_LF"}}',
      ],
      ['v1/devices/me/attributes', '{"online":true,"site":"s1","gateway":"gw1","agentVersion":"1.2.3","configHash":"cafe"}'],
    ]);
  });

  it('telemetry: per device and ts, with the quality beside each value; a bad reading is its quality alone', () => {
    const batch = [tel('tank1.ch4', 12.5, T), tel('tank1.h2s', 3, T), tel('rock1.crack', 1.25, T, { quality: 'uncertain', reason: 'stuck' }), tel('tank1.ch4', null, T + 1000)];
    expect(wire(profile().encodeTelemetry(batch))).toEqual([
      [
        'v1/gateway/telemetry',
        '{"Tank 1 gas":[' +
          '{"ts":1795593600250,"values":{"tank1.ch4":12.5,"tank1.ch4_quality":"good","tank1.h2s":3,"tank1.h2s_quality":"good"}},' +
          '{"ts":1795593601250,"values":{"tank1.ch4_quality":"bad:timeout"}}],' +
          '"rock1":[{"ts":1795593600250,"values":{"rock1.crack":1.25,"rock1.crack_quality":"uncertain:stuck"}}]}',
      ],
    ]);
    expect(wire(profile({ qualityKeys: false }).encodeTelemetry(batch))).toEqual([
      ['v1/gateway/telemetry', '{"Tank 1 gas":[{"ts":1795593600250,"values":{"tank1.ch4":12.5,"tank1.h2s":3}}],"rock1":[{"ts":1795593600250,"values":{"rock1.crack":1.25}}]}'],
    ]);
    expect(wire(profile({ qualityKeys: false }).encodeTelemetry([tel('tank1.ch4', null, T)]))).toEqual([]);
  });

  it('a device whose every channel stops answering is disconnected once, and connected again when it answers', () => {
    const p = profile();
    const silent = [tel('tank1.ch4', null, T), tel('tank1.h2s', null, T, { reason: 'port-down' })];
    expect(wire(p.encodeTelemetry(silent))).toEqual([
      ['v1/gateway/telemetry', '{"Tank 1 gas":[{"ts":1795593600250,"values":{"tank1.ch4_quality":"bad:timeout","tank1.h2s_quality":"bad:port-down"}}]}'],
      ['v1/gateway/disconnect', '{"device":"Tank 1 gas"}'],
    ]);
    expect(wire(p.encodeTelemetry([tel('tank1.ch4', null, T + 1000)])).map(([topic]) => topic)).toEqual(['v1/gateway/telemetry']);
    // A sensor fault is an answer: the device is there.
    expect(wire(p.encodeTelemetry([tel('tank1.h2s', null, T + 2000, { reason: 'sensor-fault' })]))).toEqual([
      ['v1/gateway/connect', '{"device":"Tank 1 gas","type":"gas-probe"}'],
      ['v1/gateway/telemetry', '{"Tank 1 gas":[{"ts":1795593602250,"values":{"tank1.h2s_quality":"bad:sensor-fault"}}]}'],
    ]);
    // A replay of old silence changes nothing now.
    const replay = [tel('tank1.ch4', null, T - 9000, {}, true), tel('tank1.h2s', null, T - 9000, {}, true)];
    expect(wire(p.encodeTelemetry(replay)).map(([topic]) => topic)).toEqual(['v1/gateway/telemetry']);
    expect(wire(profile({ disconnectSilent: false }).encodeTelemetry(silent)).map(([topic]) => topic)).toEqual(['v1/gateway/telemetry']);
  });

  it('events: telemetry "event*" keys of the channel\'s device; an output event on the gateway itself', () => {
    const event = (e: Partial<EventDelivery['event']>): EventDelivery => ({
      stream: 'event',
      seq: ++seq,
      ts: T,
      clock: 'synced',
      historical: false,
      event: { type: 'alarm-raised', value: null, rule: 'r', wallTs: T, monoTs: 1, clockSynced: true, ...e },
    });
    const p = profile();
    expect(wire(p.encodeEvent(event({ channelId: 'tank1.ch4', level: 'L1', value: 25, unit: '%LEL', setpoint: 20, rule: 'tank1.ch4 >= 20 %LEL for 5 s (L1)' })))).toEqual([
      [
        'v1/gateway/telemetry',
        '{"Tank 1 gas":[{"ts":1795593600250,"values":{"event":"alarm-raised","event_rule":"tank1.ch4 >= 20 %LEL for 5 s (L1)","event_channel":"tank1.ch4",' +
          '"event_indicator":"HJ_CH4","event_level":"L1","event_value":25,"event_unit":"%LEL","event_setpoint":20}}]}',
      ],
    ]);
    expect(wire(p.encodeEvent(event({ type: 'output-on', outputId: 'fan1', value: 1, rule: 'tank1.ch4 L1', by: 'operator' })))).toEqual([
      ['v1/devices/me/telemetry', '{"ts":1795593600250,"values":{"event":"output-on","event_rule":"tank1.ch4 L1","event_output":"fan1","event_value":1,"event_by":"operator"}}'],
    ]);
  });

  it('will and shutdown: the gateway offline (as a client attribute); shutdown disconnects every device', () => {
    const p = profile();
    expect(wire(p.encodeWill())).toEqual([['v1/devices/me/attributes', '{"online":false}']]);
    expect(wire(p.encodeShutdown({ ts: T, clock: 'synced' }))).toEqual([
      ['v1/gateway/disconnect', '{"device":"Tank 1 gas"}'],
      ['v1/gateway/disconnect', '{"device":"rock1"}'],
      ['v1/devices/me/attributes', '{"online":false}'],
    ]);
  });
});

describe('ThingsBoard RPC', () => {
  let now = T;
  const p = profile({}, () => ({ ts: now, clock: 'synced' }));
  const decode = (body: unknown) => p.decodeCommand('v1/gateway/rpc', Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
  const command = (body: unknown): PlatformCommand => {
    const d = decode(body);
    if (d.ok !== true) throw new Error(`not decoded: ${JSON.stringify(d)}`);
    return d.command;
  };
  const reply = (d: ReturnType<typeof decode>, status: 'done' | 'refused', reason: 'malformed' | 'unsupported' | null, message: string) => {
    const context = d.ok === 'handled' ? undefined : d.ok ? d.command.context : d.context;
    return wire(p.encodeCommandResult({ id: null, status, reason, message, topic: 'v1/gateway/rpc', ts: now, clock: 'synced', ...(context ? { context } : {}) }));
  };

  it('maps methods and params to operator commands, with the device and rpc id as context and a 60 s expiry', () => {
    expect(command({ device: 'Tank 1 gas', data: { id: 7, method: 'acknowledge', params: { channel: 'tank1.ch4' } } })).toEqual({
      id: `Tank 1 gas#7@${T}`,
      expiresAt: T + 60_000,
      command: { channel: 'tank1.ch4', action: 'acknowledge' },
      action: 'acknowledge',
      topic: 'v1/gateway/rpc',
      context: { device: 'Tank 1 gas', rpcId: '7', idType: 'number' },
    });
    // One channel on the device: it needs no name.
    expect(command({ device: 'rock1', data: { id: 'a', method: 'setBaseline', params: { value: 0 } } }).command).toEqual({ value: 0, action: 'set-baseline', channel: 'rock1.crack' });
    expect(command({ device: 'rock1', data: { id: 8, method: 'force', params: { output: 'fan1', state: 'on', for: '5m' } } }).command).toEqual({ output: 'fan1', state: 'on', for: '5m', action: 'force' });
    expect(command({ device: 'rock1', data: { id: 9, method: 'getTemperature' } }).action).toBe('getTemperature');
  });

  it('a repeated rpc id is the same command within its lifetime (a redelivery), a new one after', () => {
    const body = { device: 'rock1', data: { id: 100, method: 'acknowledge' } };
    const first = command(body).id;
    now += 30_000;
    expect(command(body).id).toBe(first);
    now += 61_000;
    expect(command(body).id).not.toBe(first);
  });

  it('answers malformed requests on the same topic when device and id are known; ignores its own replies', () => {
    expect(reply(decode({ device: 'Tank 1 gas', data: { id: 2 } }), 'refused', 'malformed', 'data.method: must be a non-empty string')).toEqual([
      ['v1/gateway/rpc', '{"device":"Tank 1 gas","id":2,"data":{"success":false,"reason":"malformed","message":"data.method: must be a non-empty string"}}'],
    ]);
    expect(decode({ device: 'Tank 1 gas', data: { id: 3, method: 'acknowledge' } })).toMatchObject({
      ok: false,
      error: 'data.params.channel: required (channels of "Tank 1 gas": tank1.ch4, tank1.h2s)',
    });
    expect(decode({ device: 'Tank 1 gas', data: { id: 4, method: 'acknowledge', params: { channel: 'rock1.crack' } } })).toMatchObject({
      ok: false,
      error: 'data.params.channel "rock1.crack" is not on "Tank 1 gas" (its channels: tank1.ch4, tank1.h2s)',
    });
    expect(decode({ device: 'Nope', data: { id: 'x-5', method: 'acknowledge' } })).toMatchObject({ ok: false, error: 'device "Nope" is not behind this gateway', context: { rpcId: 'x-5', idType: 'string' } });
    expect(decode({ device: 'rock1', data: { id: 6, method: 'silence', params: [1] } })).toMatchObject({ ok: false, error: 'data.params: must be an object' });
    expect(reply(decode({ device: 'Nope', data: { id: 'x-5', method: 'acknowledge' } }), 'refused', 'malformed', 'm')).toEqual([
      ['v1/gateway/rpc', '{"device":"Nope","id":"x-5","data":{"success":false,"reason":"malformed","message":"m"}}'],
    ]);
    // Nothing to answer to: no device or id.
    expect(decode('{"device":')).toMatchObject({ ok: false, id: null, error: 'not JSON' });
    expect(reply(decode('{"device":'), 'refused', 'malformed', 'not JSON')).toEqual([]);
    expect(decode({ data: { id: 1, method: 'acknowledge' } })).toMatchObject({ ok: false, id: null });
    expect(decode({ device: 'rock1', id: 1, data: { success: true } })).toEqual({ ok: 'handled' });
  });
});
