import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Outbox } from '../../agent/outbox/index.js';
import type { Uplink } from '../../agent/uplink/index.js';
import { SPARKPLUG_ACTIONS } from '../../agent/uplink/profiles/sparkplug/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { until } from '../support/until.js';
import { FaultProxy } from './fault-proxy.js';
import { GROUP, NODE, SparkplugHost, gas, openTempOutbox, recordingHandler, sparkplugUplink, tahuEncode, testClock, type HostMessage } from './sparkplug-support.js';

const NCMD = `spBv1.0/${GROUP}/NCMD/${NODE}`;
const dcmd = (device: string): string => `spBv1.0/${GROUP}/DCMD/${NODE}/${device}`;
const STATE = 'spBv1.0/STATE/scada';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function bdSeqOf(message: HostMessage | undefined): unknown {
  return message?.decoded?.metrics.find((m) => m.name === 'bdSeq')?.value;
}

describe('Sparkplug B through a real broker, decoded by an independent host (Eclipse Tahu)', () => {
  let broker: TestBroker;
  let host: SparkplugHost;
  let outbox: Outbox;
  let closeOutbox: () => Promise<void>;
  let uplink: Uplink | undefined;
  let proxy: FaultProxy | undefined;

  beforeEach(async () => {
    broker = await startBroker();
    host = await SparkplugHost.connect(broker.url, broker.protocolVersion);
    ({ outbox, close: closeOutbox } = await openTempOutbox());
  });

  afterEach(async () => {
    await uplink?.stop(200);
    uplink = undefined;
    await proxy?.close();
    proxy = undefined;
    await host.close();
    await closeOutbox();
    await broker.close();
  });

  const online = (): Promise<void> => until(() => uplink?.stats().state === 'online', 10_000, 'uplink online');

  it('births every metric with datatype, alias and properties; DDATA by alias; seq runs 0..255 and wraps across 300 messages', async () => {
    uplink = sparkplugUplink({ url: broker.url, protocolVersion: broker.protocolVersion, outbox, delivery: { batchRecords: 1 } });
    uplink.start();
    await until(() => host.of('DBIRTH').length === 2, 10_000, 'births');
    await online();

    const [nbirth] = host.of('NBIRTH');
    expect(nbirth?.topic).toBe(`spBv1.0/${GROUP}/NBIRTH/${NODE}`);
    expect(nbirth?.raw.seq).toBe(0);
    expect(nbirth?.decoded?.metrics.map((m) => [m.name, m.type, m.alias])).toEqual([
      ['bdSeq', 'Int64', 1],
      ['Node Control/Rebirth', 'Boolean', 2],
      ['Node Info/Version', 'String', 3],
      ['Node Info/Config Hash', 'String', 4],
      ['Node Info/Site', 'String', 5],
      ['Events/Last', 'String', 6],
      ['Commands/Last Result', 'String', 7],
      ['Commands/Force', 'String', 8],
      ['Commands/Release', 'String', 9],
    ]);
    expect(nbirth?.decoded?.metrics.find((m) => m.name === 'Node Control/Rebirth')?.value).toBe(false);
    expect(nbirth?.decoded?.metrics.find((m) => m.name === 'Node Info/Config Hash')?.value).toBe('cafe0123');

    const tank1 = host.of('DBIRTH', 'tank1')[0]?.decoded;
    expect(tank1?.metrics.map((m) => [m.name, m.type, m.alias])).toEqual([
      ['tank1.h2s', 'Double', 100],
      ['Alarms/tank1.h2s/Level', 'Int32', 101],
      ['Alarms/tank1.h2s/Acknowledge', 'Boolean', 102],
      ['tank1.ch4', 'Double', 103],
      ['Alarms/tank1.ch4/Level', 'Int32', 104],
      ['Alarms/tank1.ch4/Acknowledge', 'Boolean', 105],
    ]);
    expect(tank1?.metrics[0]?.properties).toEqual({
      engUnit: { type: 'String', value: 'ppm' },
      indicator: { type: 'String', value: 'H2S' },
      description: { type: 'String', value: 'Tank 1 hydrogen sulphide' },
      Quality: { type: 'Int32', value: 0 },
      qualityReason: { type: 'String', value: 'no-reading' },
    });
    expect(tank1?.metrics[0]?.value).toBeNull(); // no reading yet
    expect(host.of('DBIRTH', 'tank2')[0]?.decoded?.metrics.map((m) => [m.name, m.type, m.alias])).toEqual([
      ['tank2.co', 'Double', 106],
      ['Alarms/tank2.co/Level', 'Int32', 107],
      ['Alarms/tank2.co/Acknowledge', 'Boolean', 108],
    ]);

    const channels = ['tank1.h2s', 'tank1.ch4', 'tank2.co'];
    const sent: Array<{ channel: string; value: number; ts: number }> = [];
    for (let i = 0; i < 300; i++) {
      const channel = channels[i % 3] ?? 'tank1.h2s';
      const record = outbox.append('telemetry', gas(channel, i + 0.5), testClock.stamp());
      sent.push({ channel, value: i + 0.5, ts: record.wallTs });
    }
    await until(() => host.of('DDATA').length >= 300, 20_000, '300 DDATA messages');

    for (const channel of channels) {
      const got = host.data(channel);
      const want = sent.filter((s) => s.channel === channel);
      expect(got.map((v) => v.value)).toEqual(want.map((s) => s.value));
      expect(got.map((v) => v.timestamp)).toEqual(want.map((s) => s.ts));
      expect(got.every((v) => v.quality === 192 && !v.historical)).toBe(true);
    }
    // DDATA carries aliases only.
    expect(host.of('DDATA').every((m) => (m.raw.metrics ?? []).every((metric) => metric.name === undefined && metric.datatype === undefined))).toBe(true);
    expect(host.seqBreaks()).toEqual([]);
    const seqs = host.messages.map((m) => m.raw.seq);
    expect(seqs.filter((s) => s === 255).length).toBeGreaterThan(0);
    expect(seqs.lastIndexOf(0)).toBeGreaterThan(0); // wrapped after 255, not only the NBIRTH
    expect(host.messages.every((m) => m.qos === 1 && !m.retain)).toBe(true);
  });

  it('the NDEATH reaches the host as the will, with the bdSeq of the NBIRTH; the next connection births with the next bdSeq', async () => {
    proxy = await FaultProxy.start(broker.port);
    uplink = sparkplugUplink({ url: proxy.url, protocolVersion: broker.protocolVersion, outbox });
    uplink.start();
    await online();
    await until(() => host.of('NBIRTH').length === 1, 10_000, 'NBIRTH');
    const first = bdSeqOf(host.of('NBIRTH')[0]);
    expect(first).toBe(0);

    await proxy.down(); // the connection dies without DISCONNECT
    await until(() => host.of('NDEATH').length === 1, 10_000, 'NDEATH (will)');
    const death = host.of('NDEATH')[0];
    expect(death?.topic).toBe(`spBv1.0/${GROUP}/NDEATH/${NODE}`);
    expect(death?.decoded?.metrics).toEqual([{ name: 'bdSeq', type: 'Int64', value: first }]);
    expect(death?.raw.seq).toBeUndefined();
    expect(death?.retain).toBe(false);

    await proxy.up();
    await until(() => host.of('NBIRTH').length === 2, 10_000, 'second NBIRTH');
    const second = bdSeqOf(host.of('NBIRTH')[1]) as number;
    expect(second).toBeGreaterThan(first as number); // one more per CONNECT attempt (attempts refused while down count too)
    expect(host.of('NBIRTH')[1]?.raw.seq).toBe(0);

    await uplink.stop();
    uplink = undefined;
    await until(() => host.of('NDEATH').length === 2, 10_000, 'NDEATH on an orderly stop');
    expect(bdSeqOf(host.of('NDEATH')[1])).toBe(second);
  });

  it('Node Control/Rebirth on NCMD: NBIRTH (seq 0, same bdSeq) and every DBIRTH again at once; data goes on after it', async () => {
    uplink = sparkplugUplink({ url: broker.url, protocolVersion: broker.protocolVersion, outbox, commands: { handler: recordingHandler().handler } });
    uplink.start();
    await online();
    await until(() => host.of('DBIRTH').length === 2, 10_000, 'births');
    outbox.append('telemetry', gas('tank1.h2s', 1.5), testClock.stamp());
    await until(() => host.data('tank1.h2s').length === 1, 10_000, 'first DDATA');

    await host.publish(NCMD, tahuEncode({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] }));
    await until(() => host.of('NBIRTH').length === 2 && host.of('DBIRTH').length === 4, 10_000, 'rebirth');
    expect(bdSeqOf(host.of('NBIRTH')[1])).toBe(bdSeqOf(host.of('NBIRTH')[0]));
    // The rebirth carries the current value.
    expect(host.of('DBIRTH', 'tank1')[1]?.decoded?.metrics[0]?.value).toBe(1.5);

    outbox.append('telemetry', gas('tank1.h2s', 2.5), testClock.stamp());
    await until(() => host.data('tank1.h2s').length === 2, 10_000, 'DDATA after the rebirth');
    expect(host.seqBreaks()).toEqual([]);
    expect(uplink.stats().commands.received).toBe(0); // handled by the profile, not an operator command
  });

  it('waits for the primary host: no birth or data until its STATE says online; offline holds data; garbage on STATE changes nothing', async () => {
    uplink = sparkplugUplink({ url: broker.url, protocolVersion: broker.protocolVersion, outbox, options: { primaryHostId: 'scada' } });
    uplink.start();
    await until(() => uplink?.stats().state === 'held', 10_000, 'connected and held');
    outbox.append('telemetry', gas('tank1.h2s', 10), testClock.stamp());
    outbox.append('telemetry', gas('tank2.co', 20), testClock.stamp());
    await host.publish(STATE, 'not json at all');
    await host.publish(STATE, Buffer.from([0xff, 0x00, 0x13]));
    await sleep(300);
    expect(host.messages).toEqual([]);
    expect(uplink.stats().state).toBe('held');

    await host.publish(STATE, JSON.stringify({ online: true, timestamp: Date.now() }), true);
    await until(() => host.data('tank1.h2s').length === 1 && host.data('tank2.co').length === 1, 10_000, 'held data after online');
    expect(host.messages[0]?.type).toBe('NBIRTH');
    expect(host.data('tank1.h2s')[0]?.value).toBe(10);

    // The host goes offline: this node ends its session (the broker publishes the NDEATH will), connects again
    // with a new bdSeq, and holds data until the host is back.
    await host.publish(STATE, JSON.stringify({ online: false, timestamp: Date.now() }), true);
    await until(() => host.of('NDEATH').length === 1, 10_000, 'NDEATH on host offline');
    await until(() => (uplink?.stats().connects ?? 0) >= 2 && uplink?.stats().state === 'held', 15_000, 'reconnected and held again');
    outbox.append('telemetry', gas('tank1.h2s', 11), testClock.stamp());
    await sleep(300);
    expect(host.data('tank1.h2s').length).toBe(1);

    // A STATE older than the last one is stale; the legacy text form is understood.
    await host.publish(STATE, JSON.stringify({ online: true, timestamp: 1 }));
    await sleep(200);
    expect(uplink.stats().state).toBe('held');
    await host.publish(STATE, 'ONLINE');
    await until(() => host.data('tank1.h2s').length === 2, 10_000, 'data after the host is back');
    expect(host.data('tank1.h2s')[1]?.value).toBe(11);
    expect(host.of('NBIRTH').length).toBe(2);
    expect(host.seqBreaks()).toEqual([]);
  });

  it('outage and replay: readings taken while the broker is unreachable arrive afterwards, is_historical, in order, with their own timestamps, none lost', async () => {
    proxy = await FaultProxy.start(broker.port);
    uplink = sparkplugUplink({ url: proxy.url, protocolVersion: broker.protocolVersion, outbox });
    uplink.start();
    await online();
    const stamps: number[] = [];
    for (let i = 0; i < 5; i++) stamps.push(outbox.append('telemetry', gas('tank1.h2s', i), testClock.stamp()).wallTs);
    await until(() => host.data('tank1.h2s').length === 5, 10_000, 'live readings');

    await proxy.down();
    await until(() => uplink?.stats().state !== 'online', 10_000, 'connection lost');
    for (let i = 5; i < 205; i++) {
      stamps.push(outbox.append('telemetry', gas(i % 2 === 0 ? 'tank1.h2s' : 'tank2.co', i), testClock.stamp()).wallTs);
      if (i % 50 === 0) await sleep(5); // time passes during the outage
    }
    await proxy.up();
    // Every value, not a count: readings 0–4 may come twice (their PUBACKs lost with the link) and fill a count early.
    const distinct = (): number => new Set([...host.data('tank1.h2s'), ...host.data('tank2.co')].map((v) => v.value)).size;
    await until(() => distinct() >= 205, 20_000, 'replay');

    const all = [...host.data('tank1.h2s'), ...host.data('tank2.co')];
    for (let i = 0; i < 205; i++) {
      const arrivals = all.filter((v) => v.value === i);
      expect(arrivals.length, `reading ${i} arrived`).toBeGreaterThan(0);
      expect(arrivals.every((v) => v.timestamp === stamps[i]), `reading ${i} keeps its timestamp`).toBe(true);
      // Taken during the outage: replayed as history. Before it: live (a resend of one whose PUBACK was lost is history too).
      if (i >= 5) expect(arrivals.every((v) => v.historical), `reading ${i} historical`).toBe(true);
      else expect(arrivals[0]?.historical).toBe(false);
    }
    for (const channel of ['tank1.h2s', 'tank2.co']) {
      const replayed = host.data(channel).filter((v) => v.historical).map((v) => v.value as number);
      expect(replayed).toEqual([...replayed].sort((a, b) => a - b));
    }
    expect(host.seqBreaks()).toEqual([]);
  });

  it('DDEATH when every channel of a field device stops answering, once; DBIRTH with the value when it answers again, then DDATA', async () => {
    uplink = sparkplugUplink({ url: broker.url, protocolVersion: broker.protocolVersion, outbox });
    uplink.start();
    await online();
    await until(() => host.of('DBIRTH').length === 2, 10_000, 'births');
    outbox.append('telemetry', gas('tank1.h2s', 3), testClock.stamp());
    outbox.append('telemetry', gas('tank2.co', 4), testClock.stamp());
    await until(() => host.data('tank2.co').length === 1, 10_000, 'live data');

    // One of tank1's two channels silent: the device still answers, no DDEATH.
    outbox.append('telemetry', gas('tank1.h2s', null), testClock.stamp());
    // tank2's only channel times out: the device is gone.
    outbox.append('telemetry', gas('tank2.co', null), testClock.stamp());
    outbox.append('telemetry', gas('tank2.co', null), testClock.stamp());
    await until(() => host.of('DDEATH').length === 1, 10_000, 'DDEATH');
    expect(host.of('DDEATH')[0]?.deviceId).toBe('tank2');
    expect(host.of('DDEATH', 'tank1')).toEqual([]);
    const nullReading = host.data('tank1.h2s')[1];
    expect(nullReading?.value).toBeNull();
    expect(nullReading?.quality).toBe(0);

    outbox.append('telemetry', gas('tank2.co', null, { reason: 'breaker-open' }), testClock.stamp());
    outbox.append('telemetry', gas('tank2.co', 7.5), testClock.stamp());
    await until(() => host.of('DBIRTH', 'tank2').length === 2, 10_000, 'DBIRTH when tank2 answers');
    expect(host.of('DBIRTH', 'tank2')[1]?.decoded?.metrics[0]).toMatchObject({ name: 'tank2.co', value: 7.5, properties: { Quality: { value: 192 } } });
    outbox.append('telemetry', gas('tank2.co', 8.5), testClock.stamp());
    await until(() => host.data('tank2.co').some((v) => v.value === 8.5), 10_000, 'DDATA after the DBIRTH');

    expect(host.of('DDEATH').length).toBe(1);
    const order = host.messages.filter((m) => m.deviceId === 'tank2').map((m) => m.type);
    expect(order).toEqual(['DBIRTH', 'DDATA', 'DDATA', 'DDEATH', 'DBIRTH', 'DDATA']);
    expect(host.seqBreaks()).toEqual([]);
  });

  it('NCMD/DCMD map to acknowledge and force/release through the gate; malformed, unknown and mistyped writes are refused without effect', async () => {
    const { handler, calls } = recordingHandler();
    uplink = sparkplugUplink({ url: broker.url, protocolVersion: broker.protocolVersion, outbox, commands: { handler } });
    uplink.start();
    await online();
    await until(() => host.of('DBIRTH').length === 2, 10_000, 'births');
    const results = (): Array<Record<string, unknown>> => host.data('Commands/Last Result').map((v) => JSON.parse(String(v.value)) as Record<string, unknown>);
    /** One write, then its answer (one at a time, so the answers line up with the writes). */
    const send = async (topic: string, payload: Buffer): Promise<Record<string, unknown>> => {
      const count = results().length;
      await host.publish(topic, payload);
      await until(() => results().length > count, 10_000, `answer to a write on ${topic}`);
      return results()[count] ?? {};
    };
    let ts = Date.now();

    const done = [
      await send(dcmd('tank1'), tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Alarms/tank1.h2s/Acknowledge', type: 'Boolean', value: true }] })),
      await send(NCMD, tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Outputs/fan1/Force', type: 'String', value: 'on 600' }] })),
      await send(NCMD, tahuEncode({ timestamp: ++ts, metrics: [{ alias: 8, type: 'String', value: 'fan1 off 5m' }] })),
      await send(NCMD, tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Commands/Release', type: 'String', value: 'fan1' }] })),
    ];
    const releaseTs = ts;
    expect(calls).toEqual([
      expect.stringMatching(/^acknowledge tank1\.h2s by platform:/),
      expect.stringMatching(/^force fan1 on 600000 by platform:/),
      expect.stringMatching(/^force fan1 off 300000 by platform:/),
      expect.stringMatching(/^release fan1 by platform:/),
    ]);
    expect(done.map((r) => [r.metric, r.action, r.status])).toEqual([
      ['Alarms/tank1.h2s/Acknowledge', 'acknowledge', 'done'],
      ['Outputs/fan1/Force', 'force', 'done'],
      ['alias 8', 'force', 'done'],
      ['Commands/Release', 'release', 'done'],
    ]);

    const before = calls.length;
    const refused = [
      await send(NCMD, Buffer.from('{"action":"force"}')), // not protobuf
      await send(NCMD, Buffer.from([0x12, 0x7f, 0x01])), // truncated protobuf
      await send(NCMD, tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Outputs/fan1/Explode', type: 'Boolean', value: true }] })),
      await send(dcmd('tank1'), tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Alarms/tank1.h2s/Acknowledge', type: 'String', value: 'yes' }] })),
      await send(dcmd('tank1'), tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Alarms/tank2.co/Acknowledge', type: 'Boolean', value: true }] })),
      await send(NCMD, tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Outputs/pump9/Force', type: 'String', value: 'on 60' }] })),
      await send(NCMD, tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Commands/Force', type: 'String', value: 'fan1 sideways 60' }] })),
      await send(dcmd('tank9'), tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Alarms/tank9.x/Acknowledge', type: 'Boolean', value: true }] })),
      await send(NCMD, tahuEncode({ timestamp: ++ts, metrics: [] })),
    ];
    expect(refused.every((r) => r.status === 'refused')).toBe(true);
    expect(refused.map((r) => String(r.message))).toEqual([
      expect.stringMatching(/not a Sparkplug B payload/),
      expect.stringMatching(/not a Sparkplug B payload/),
      expect.stringMatching(/Outputs\/fan1\/Explode: not a writable metric/),
      expect.stringMatching(/expects Boolean, got String/),
      expect.stringMatching(/Alarms\/tank2\.co\/Acknowledge: not a writable metric of device tank1/),
      expect.stringMatching(/no output "pump9"/),
      expect.stringMatching(/state must be "on" or "off"/),
      expect.stringMatching(/no device "tank9"/),
      expect.stringMatching(/no metrics/),
    ]);
    expect(refused.map((r) => r.reason)).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'invalid', 'malformed', 'malformed', 'malformed']);
    expect(calls.length).toBe(before);

    // A host resending the same command (same payload timestamp) is not run twice.
    const again = await send(NCMD, tahuEncode({ timestamp: releaseTs, metrics: [{ name: 'Commands/Release', type: 'String', value: 'fan1' }] }));
    expect(again).toMatchObject({ status: 'refused', reason: 'duplicate' });
    expect(calls.length).toBe(before);
    expect(uplink.stats().state).toBe('online');
    expect(host.seqBreaks()).toEqual([]);
  });

  it('by default only acknowledge: force is refused unless the site allows it; a retained command runs nothing', async () => {
    const { handler, calls } = recordingHandler();
    let ts = Date.now();
    // Left retained on the broker before the node connects, with two metrics: neither may run (the second would
    // otherwise have gone around the gate's retained check), and no rebirth either.
    await host.publish(
      NCMD,
      tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }, { name: 'Commands/Release', type: 'String', value: 'fan1' }] }),
      true,
    );
    uplink = sparkplugUplink({ url: broker.url, protocolVersion: broker.protocolVersion, outbox, commands: { handler, allowedActions: SPARKPLUG_ACTIONS } });
    uplink.start();
    await online();
    const results = (): Array<Record<string, unknown>> => host.data('Commands/Last Result').map((v) => JSON.parse(String(v.value)) as Record<string, unknown>);
    await until(() => results().length === 1, 10_000, 'answer to the retained command');
    expect(results()[0]).toMatchObject({ status: 'refused', message: expect.stringMatching(/retained/) });
    await host.publish(NCMD, '', true); // clears the retained message (and is refused itself: no metrics)

    await host.publish(NCMD, tahuEncode({ timestamp: ++ts, metrics: [{ name: 'Outputs/fan1/Force', type: 'String', value: 'on 600' }] }));
    const forceAnswer = (): Record<string, unknown> | undefined => results().find((r) => r.metric === 'Outputs/fan1/Force');
    await until(() => forceAnswer() !== undefined, 10_000, 'answer to force');
    expect(forceAnswer()).toMatchObject({ action: 'force', status: 'refused', reason: 'unsupported' });
    expect(host.of('NBIRTH').length).toBe(1);
    expect(calls).toEqual([]);
  });
});
