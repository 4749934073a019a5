import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.js';
import { FaultProxy } from './fault-proxy.js';
import { BASE, Subscriber, appendReadings, clock, makeUplink, reading, waitUntil, type TestUplink, type WireReading } from './helpers.js';
import { InMemoryOutbox } from './memory-outbox.js';

function expectIncreasing(seqs: number[], what: string): void {
  for (let i = 1; i < seqs.length; i++) {
    if ((seqs[i] ?? 0) <= (seqs[i - 1] ?? 0)) throw new Error(`${what} out of order at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
  }
}

function expectExactly(readings: WireReading[], seqs: number[]): void {
  const got = readings.map((r) => r.seq).sort((a, b) => a - b);
  expect(got.length).toBe(seqs.length);
  expect(new Set(got).size).toBe(got.length);
  expect(got).toEqual([...seqs].sort((a, b) => a - b));
}

describe('delivery from the outbox', () => {
  let broker: TestBroker;
  let proxy: FaultProxy;
  let platform: Subscriber;
  let t: TestUplink | undefined;

  beforeEach(async () => {
    broker = await startBroker();
    proxy = await FaultProxy.start(broker.port);
    platform = await Subscriber.connect(broker);
  });

  afterEach(async () => {
    await t?.uplink.stop(200);
    t = undefined;
    await platform.close();
    await proxy.close();
    await broker.close();
  });

  it('sends live readings and events on their topics, valid against the schemas, and acks the outbox only then', async () => {
    t = makeUplink(proxy.url, broker);
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'online');
    const seqs = appendReadings(t.outbox, 5);
    const eventSeq = t.outbox.append(
      'event',
      { type: 'alarm-raised', channelId: 'tank1.h2s', level: 'L1', value: 9, unit: 'ppm', setpoint: 7, rule: 'tank1.h2s ≥ 7 ppm for 5 s (L1)', ...clock.stamp() },
      clock.stamp(),
    ).seq;
    t.outbox.append('telemetry', reading('tank1.ch4', null, { quality: 'bad', reason: 'timeout', indicator: 'CH4' }), { ...clock.stamp(), clockSynced: false });
    await waitUntil(() => t?.outbox.stats().records === 0, 'all acked');
    await waitUntil(() => platform.readings().length === 6 && platform.on('events').length === 1, 'all on the wire');
    expectExactly(platform.readings(), [...seqs, eventSeq + 1]);
    const event = platform.on('events')[0]?.body;
    expect(event).toMatchObject({ v: 1, seq: eventSeq, historical: false, clock: 'synced', event: { type: 'alarm-raised', level: 'L1', channel: 'tank1.h2s', setpoint: 7 } });
    const bad = platform.readings().find((r) => r.channel === 'tank1.ch4');
    expect(bad).toMatchObject({ value: null, quality: 'bad', reason: 'timeout', indicator: 'CH4', clock: 'unsynced', historical: false });
    expect(t.outbox.counters.unknownAcks).toBe(0);
  });

  it('never has more QoS 1 messages unacknowledged at the broker than the window, and fills it', async () => {
    t = makeUplink(proxy.url, broker, { delivery: { window: 8, batchRecords: 10, replayRecordsPerSecond: 1_000_000, replayBurst: 1_000_000 } });
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'online');
    proxy.holdAcks(true);
    const seqs = appendReadings(t.outbox, 2000);
    await waitUntil(() => proxy.outstanding === 8, 'a full window at the broker');
    // Held for a while: nothing more may leave.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(proxy.outstanding).toBe(8);
    expect(t.uplink.stats().transportHeld.outgoing).toBeLessThanOrEqual(8);
    proxy.holdAcks(false);
    await waitUntil(() => platform.readings().length === 2000, 'everything delivered');
    expect(proxy.maxOutstanding).toBe(8);
    expectExactly(platform.readings(), seqs);
    expectIncreasing(platform.readings().map((r) => r.seq), 'live readings');
    // Batched: 2000 readings in at most 10 per message.
    expect(platform.on('telemetry').every((m) => (m.body.readings as unknown[]).length <= 10)).toBe(true);
    expect(platform.on('telemetry').length).toBeLessThan(2000);
  });

  it.runIf(process.env.VIGIL_TEST_BROKER === 'mosquitto')("respects the broker's receive maximum (MQTT 5)", async () => {
    const small = await startBroker({ receiveMaximum: 3 });
    const smallProxy = await FaultProxy.start(small.port);
    const sub = await Subscriber.connect(small);
    const s = makeUplink(smallProxy.url, small, { delivery: { window: 32, batchRecords: 5 } });
    try {
      s.uplink.start();
      await waitUntil(() => s.uplink.stats().state === 'online', 'online');
      expect(s.uplink.stats().window).toBe(3);
      smallProxy.holdAcks(true);
      appendReadings(s.outbox, 500);
      await waitUntil(() => smallProxy.outstanding === 3, 'window of 3 full');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(smallProxy.outstanding).toBe(3);
      smallProxy.holdAcks(false);
      await waitUntil(() => sub.readings().length === 500, 'all delivered');
      expect(smallProxy.maxOutstanding).toBe(3);
    } finally {
      await s.uplink.stop(200);
      await sub.close();
      await smallProxy.close();
      await small.close();
    }
  });

  it('replays a backlog marked historical in seq order while live readings still get through first', async () => {
    const outbox = new InMemoryOutbox();
    const backlog = appendReadings(outbox, 4000, 'tank1.h2s');
    t = makeUplink(proxy.url, broker, { delivery: { window: 8, batchRecords: 20, replayRecordsPerSecond: 4000, replayBurst: 40 } }, outbox);
    let backlogThrough = 0;
    t.uplink.start();
    await waitUntil(() => {
      const connected = t?.trace.find((e) => e.type === 'connected');
      if (connected?.type === 'connected') backlogThrough = connected.backlogThrough;
      return connected !== undefined;
    }, 'connected');
    expect(backlogThrough).toBe(backlog.at(-1));
    // Live readings while the replay runs.
    const live: number[] = [];
    for (let i = 0; i < 20; i++) {
      live.push(...appendReadings(outbox, 5, 'tank1.ch4'));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitUntil(() => outbox.stats().records === 0, 'backlog drained');
    await waitUntil(() => platform.readings().length === backlog.length + live.length, 'all on the wire');
    const all = platform.readings();
    const historical = all.filter((r) => r.historical);
    const liveOnWire = all.filter((r) => !r.historical);
    expectExactly(historical, backlog);
    expectExactly(liveOnWire, live);
    expectIncreasing(historical.map((r) => r.seq), 'historical readings');
    expectIncreasing(liveOnWire.map((r) => r.seq), 'live readings');
    // Live was not starved: the first live reading reached the platform before the last historical one.
    const firstLive = all.findIndex((r) => !r.historical);
    const lastHistorical = all.map((r) => r.historical).lastIndexOf(true);
    expect(firstLive).toBeLessThan(lastHistorical);
    expect(t.uplink.stats().delivered).toMatchObject({ historicalRecords: backlog.length, liveRecords: live.length });
  });

  it('sends nothing twice within one connection (every read slice once, acks once)', async () => {
    const outbox = new InMemoryOutbox();
    const seqs = appendReadings(outbox, 3000);
    t = makeUplink(proxy.url, broker, { delivery: { window: 16, batchRecords: 50, replayRecordsPerSecond: 1_000_000, replayBurst: 1_000_000 } }, outbox);
    t.uplink.start();
    await waitUntil(() => outbox.stats().records === 0, 'drained');
    await waitUntil(() => platform.readings().length >= seqs.length, 'on the wire');
    expect(t.trace.filter((e) => e.type === 'connected')).toHaveLength(1);
    expectExactly(platform.readings(), seqs);
    expect(outbox.counters.unknownAcks).toBe(0);
    expect(proxy.publishes.get(`${BASE}/telemetry`)).toBe(platform.on('telemetry').length);
  });

  it('speaks MQTT 3.1.1 when set to (the default is 5 where the broker has it)', async () => {
    t = makeUplink(proxy.url, broker, { broker: { url: proxy.url, protocolVersion: 4 } });
    t.uplink.start();
    const seqs = appendReadings(t.outbox, 10);
    await waitUntil(() => platform.readings().length === 10, 'delivered over 3.1.1');
    expectExactly(platform.readings(), seqs);
    expect(t.uplink.stats().window).toBe(32);
  });
});
