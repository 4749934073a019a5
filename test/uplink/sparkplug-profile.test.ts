import { describe, expect, it } from 'vitest';
import { detachedProfileHost, type EventDelivery, type OutgoingMessage, type PlatformCommand, type PlatformProfile } from '../../agent/uplink/index.js';
import { createSparkplugProfile } from '../../agent/uplink/profiles/sparkplug/index.js';
import { CHANNELS, tahuEncode, tahuRaw } from './sparkplug-support.js';

const T = 1_700_000_000_000;
const list = (m: OutgoingMessage | readonly OutgoingMessage[]): readonly OutgoingMessage[] => (Array.isArray(m) ? m : [m as OutgoingMessage]);

interface Recorded {
  profile: PlatformProfile;
  published: OutgoingMessage[];
  submitted: PlatformCommand[];
  rebirths: number;
  gates: boolean[];
}

function recorded(): Recorded {
  const r: Omit<Recorded, 'profile'> = { published: [], submitted: [], rebirths: 0, gates: [] };
  const profile = createSparkplugProfile(
    {
      siteId: 'site1',
      gatewayId: 'gw1',
      topicPrefix: 'vigil',
      host: {
        ...detachedProfileHost(() => ({ ts: T, clock: 'synced' })),
        publish: (messages) => r.published.push(...messages),
        submit: (command) => r.submitted.push(command),
        rebirth: () => r.rebirths++,
        setGate: (open) => r.gates.push(open),
      },
    },
    { groupId: 'city', qos: 0, primaryHostId: 'scada' },
    CHANNELS,
  );
  return Object.assign(r, { profile });
}

function event(type: EventDelivery['event']['type'], extra: Partial<EventDelivery['event']> = {}, historical = false): EventDelivery {
  return {
    stream: 'event',
    seq: 42,
    ts: T - 1000,
    clock: 'synced',
    historical,
    event: { type, value: 23.5, rule: 'tank1.ch4 ≥ 20 %LEL for 5 s (L1)', wallTs: T - 1000, monoTs: 1, clockSynced: true, ...extra },
  };
}

describe('Sparkplug profile behaviour', () => {
  it('an alarm event goes as NDATA Events/Last (JSON) and a DDATA alarm level on the channel device; a replayed one as history only', () => {
    const { profile } = recorded();
    profile.encodeWill();
    profile.encodeBirth({ ts: T, clock: 'synced', version: '1', configHash: 'h', channels: CHANNELS, latest: [] });
    const raised = list(profile.encodeEvent(event('alarm-raised', { channelId: 'tank1.ch4', level: 'L1', unit: '%LEL', setpoint: 20 })));
    expect(raised.map((m) => m.topic)).toEqual(['spBv1.0/city/NDATA/gw1', 'spBv1.0/city/DDATA/gw1/tank1']);
    expect(raised.every((m) => m.qos === 0 && !m.retain)).toBe(true);
    const ndata = tahuRaw(raised[0]?.payload ?? Buffer.alloc(0)).metrics?.[0];
    expect(ndata).toMatchObject({ alias: 6, timestamp: T - 1000 });
    expect(JSON.parse(ndata?.stringValue ?? '{}')).toEqual({
      type: 'alarm-raised',
      channel: 'tank1.ch4',
      level: 'L1',
      value: 23.5,
      unit: '%LEL',
      setpoint: 20,
      rule: 'tank1.ch4 ≥ 20 %LEL for 5 s (L1)',
      seq: 42,
      clock: 'synced',
    });
    expect(tahuRaw(raised[1]?.payload ?? Buffer.alloc(0)).metrics).toEqual([{ alias: 104, timestamp: T - 1000, intValue: 1 }]);

    const l2 = list(profile.encodeEvent(event('alarm-raised', { channelId: 'tank1.ch4', level: 'L2' })));
    expect(tahuRaw(l2[1]?.payload ?? Buffer.alloc(0)).metrics?.[0]?.intValue).toBe(2);
    const cleared = list(profile.encodeEvent(event('alarm-cleared', { channelId: 'tank1.ch4', level: 'L2' })));
    expect(tahuRaw(cleared[1]?.payload ?? Buffer.alloc(0)).metrics?.[0]?.intValue).toBe(1);

    const old = list(profile.encodeEvent(event('alarm-raised', { channelId: 'tank1.h2s', level: 'L2' }, true)));
    expect(old.map((m) => m.topic)).toEqual(['spBv1.0/city/NDATA/gw1']);
    expect(tahuRaw(old[0]?.payload ?? Buffer.alloc(0)).metrics?.[0]).toMatchObject({ alias: 6, isHistorical: true });

    // The next birth states the level and the latest live event.
    const births = list(profile.encodeBirth({ ts: T, clock: 'synced', version: '1', configHash: 'h', channels: CHANNELS, latest: [] }));
    const tank1 = tahuRaw(births[1]?.payload ?? Buffer.alloc(0)).metrics ?? [];
    expect(tank1.find((m) => m.name === 'Alarms/tank1.ch4/Level')?.intValue).toBe(1);
    expect(tank1.find((m) => m.name === 'Alarms/tank1.h2s/Level')?.isNull).toBe(true);
    const lastEvent = tahuRaw(births[0]?.payload ?? Buffer.alloc(0)).metrics?.find((m) => m.name === 'Events/Last')?.stringValue;
    expect(JSON.parse(lastEvent ?? '{}')).toMatchObject({ type: 'alarm-cleared', level: 'L2' });
  });

  it('a device already silent at birth gets its DBIRTH followed by a DDEATH', () => {
    const { profile } = recorded();
    profile.encodeWill();
    const latest = CHANNELS.map((c) => ({
      channelId: c.id,
      deviceId: c.deviceId ?? '',
      value: c.deviceId === 'tank2' ? null : 1,
      unit: 'ppm',
      quality: c.deviceId === 'tank2' ? ('bad' as const) : ('good' as const),
      ...(c.deviceId === 'tank2' ? { reason: 'timeout' as const } : {}),
      ts: T,
      clock: 'synced' as const,
    }));
    const births = list(profile.encodeBirth({ ts: T, clock: 'synced', version: '1', configHash: 'h', channels: CHANNELS, latest }));
    expect(births.map((m) => m.topic.split('/').slice(2).join('/'))).toEqual(['NBIRTH/gw1', 'DBIRTH/gw1/tank1', 'DBIRTH/gw1/tank2', 'DDEATH/gw1/tank2']);
    // Still silent: nothing; answering: DBIRTH first.
    const reading = (value: number | null) => ({
      stream: 'telemetry' as const,
      seq: 1,
      ts: T + 1,
      clock: 'synced' as const,
      historical: false,
      reading: { channelId: 'tank2.co', deviceId: 'tank2', value, unit: 'ppm', quality: value === null ? ('bad' as const) : ('good' as const), ...(value === null ? { reason: 'timeout' as const } : {}) },
    });
    expect(list(profile.encodeTelemetry([reading(null)]))).toEqual([]);
    expect(list(profile.encodeTelemetry([reading(null), reading(5), reading(6)])).map((m) => m.topic.split('/')[2])).toEqual(['DBIRTH', 'DDATA']);
  });

  it('one NCMD with a rebirth, a force and a bad write: rebirth at once, first command to the gate, the rest submitted or answered', () => {
    const r = recorded();
    r.profile.encodeWill();
    r.profile.encodeBirth({ ts: T, clock: 'synced', version: '1', configHash: 'h', channels: CHANNELS, latest: [] });
    const decoded = r.profile.decodeCommand(
      'spBv1.0/city/NCMD/gw1',
      tahuEncode({
        timestamp: T,
        metrics: [
          { name: 'Outputs/fan1/Force', type: 'String', value: 'on 90' },
          { name: 'Node Control/Rebirth', type: 'Boolean', value: true },
          { name: 'Commands/Release', type: 'String', value: 'fan1' },
          { name: 'Commands/Force', type: 'Int32', value: 3 },
        ],
      }),
    );
    expect(r.rebirths).toBe(1);
    expect(decoded).toMatchObject({
      ok: true,
      command: { id: `NCMD/Outputs/fan1/Force@${T}#0`, expiresAt: T + 60_000, action: 'force', command: { action: 'force', output: 'fan1', state: 'on', for: '90s' } },
    });
    expect(r.submitted.map((c) => c.command)).toEqual([{ action: 'release', output: 'fan1' }]);
    expect(r.published.map((m) => m.topic)).toEqual(['spBv1.0/city/NDATA/gw1']);
    const answer = JSON.parse(tahuRaw(r.published[0]?.payload ?? Buffer.alloc(0)).metrics?.[0]?.stringValue ?? '{}') as Record<string, unknown>;
    expect(answer).toMatchObject({ metric: 'Commands/Force', status: 'refused', reason: 'malformed' });
    expect(String(answer.message)).toMatch(/expects String, got Int32/);
  });

  it('a rebirth request alone is handled by the profile; Rebirth=false is refused; STATE opens and closes the gate, garbage never throws', () => {
    const r = recorded();
    r.profile.encodeWill();
    expect(r.profile.decodeCommand('spBv1.0/city/NCMD/gw1', tahuEncode({ timestamp: T, metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] }))).toEqual({ ok: 'handled' });
    expect(r.profile.decodeCommand('spBv1.0/city/NCMD/gw1', tahuEncode({ timestamp: T, metrics: [{ alias: 2, type: 'Boolean', value: false }] }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/write true/),
    });
    expect(r.rebirths).toBe(1);
    expect(r.profile.decodeCommand('spBv1.0/other/NCMD/gw1', Buffer.from([]))).toMatchObject({ ok: false, error: expect.stringMatching(/not a command topic/) });

    expect(r.profile.gated).toBe(true);
    expect(r.profile.commandSubscriptions).toEqual(['spBv1.0/city/NCMD/gw1', 'spBv1.0/city/DCMD/gw1/+']);
    expect(r.profile.controlSubscriptions).toEqual(['spBv1.0/city/NCMD/gw1', 'spBv1.0/STATE/scada']);
    for (const garbage of ['', '{', '[]', '{"online":"yes"}', '{"online":true,"timestamp":"now"}', '\u0000\u00ff']) {
      expect(r.profile.decodeCommand('spBv1.0/STATE/scada', Buffer.from(garbage))).toEqual({ ok: 'handled' });
    }
    expect(r.gates).toEqual([]);
    r.profile.decodeCommand('spBv1.0/STATE/scada', Buffer.from('{"online":true,"timestamp":100}'));
    r.profile.decodeCommand('spBv1.0/STATE/scada', Buffer.from('{"online":false,"timestamp":50}')); // older: ignored
    r.profile.decodeCommand('spBv1.0/STATE/scada', Buffer.from('OFFLINE'));
    expect(r.gates).toEqual([true, false]);
    // No birth on this connection yet: no NDEATH to send when the host goes offline.
    expect(r.published).toEqual([]);
  });
});
