import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.js';
import { FaultProxy } from './fault-proxy.js';
import { Subscriber, clock, makeUplink, reading, sleep, waitUntil, type TestUplink } from './helpers.js';
import type { InMemoryOutbox } from './memory-outbox.js';

interface Arrival {
  seq: number;
  historical: boolean;
  stream: 'telemetry' | 'event';
}

function arrivals(platform: Subscriber): Arrival[] {
  return platform.messages.flatMap((m): Arrival[] => {
    if (m.topic.endsWith('/telemetry')) {
      return (m.body.readings as Array<{ seq: number; historical: boolean }>).map((r) => ({ seq: r.seq, historical: r.historical, stream: 'telemetry' }));
    }
    if (m.topic.endsWith('/events')) return [{ seq: m.body.seq as number, historical: m.body.historical as boolean, stream: 'event' }];
    return [];
  });
}

/** Everything 1..lastSeq arrived; anything twice was in flight when a connection was lost; order holds within live and within historical. */
function checkDelivery(t: TestUplink, platform: Subscriber): { historical: Set<number>; duplicates: number[] } {
  const lastSeq = t.outbox.stats().lastSeq;
  const got = arrivals(platform);
  const counts = new Map<number, number>();
  for (const a of got) counts.set(a.seq, (counts.get(a.seq) ?? 0) + 1);
  const missing: number[] = [];
  for (let seq = 1; seq <= lastSeq; seq++) if (!counts.has(seq)) missing.push(seq);
  expect(missing, 'gaps').toEqual([]);
  const explained = new Set(t.trace.flatMap((e) => (e.type === 'disconnected' ? e.inflightSeqs : [])));
  const duplicates = [...counts.entries()].filter(([, n]) => n > 1).map(([seq]) => seq);
  expect(duplicates.filter((seq) => !explained.has(seq)), 'duplicates not in flight at a disconnect').toEqual([]);
  for (const stream of ['telemetry', 'event'] as const) {
    for (const historical of [false, true]) {
      // A seq resent after a disconnect shows up again later; order is checked on first arrivals per class.
      const seen = new Set<number>();
      const seqs = got.filter((a) => a.stream === stream && a.historical === historical && !seen.has(a.seq) && seen.add(a.seq)).map((a) => a.seq);
      const outOfOrder = seqs.findIndex((seq, i) => i > 0 && seq <= (seqs[i - 1] ?? 0));
      expect(outOfOrder, `${stream} ${historical ? 'historical' : 'live'} order`).toBe(-1);
    }
  }
  return { historical: new Set(got.filter((a) => a.historical).map((a) => a.seq)), duplicates };
}

/** Appends readings (and now and then an event) every few ms until stopped: the field side going on. */
function load(outbox: InMemoryOutbox): { stop: () => void; appendedWhile: (window: { from: number; to: number }) => number[] } {
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (let i = 0; i < 3; i++) outbox.append('telemetry', reading(`tank${i}.h2s`, tick % 40), clock.stamp());
    if (tick % 25 === 0) {
      outbox.append('event', { type: 'fault', channelId: 'tank1.h2s', value: null, rule: 'tank1.h2s: 3 failed polls', cause: 'timeout', ...clock.stamp() }, clock.stamp());
    }
  }, 4);
  return {
    stop: () => clearInterval(timer),
    appendedWhile: ({ from, to }) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + 1 + i),
  };
}

describe('outages, refusals and stalls', () => {
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

  it('broker down under load, then back: every seq arrives, in order within live and within historical, outage data marked historical', async () => {
    t = makeUplink(proxy.url, broker, { delivery: { window: 16, batchRecords: 50, replayRecordsPerSecond: 50_000 } });
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'online');
    const field = load(t.outbox);
    await waitUntil(() => arrivals(platform).length > 300, 'live data flowing');

    await proxy.down();
    const downFrom = t.outbox.stats().lastSeq;
    await sleep(1500);
    const downTo = t.outbox.stats().lastSeq;
    await proxy.up();

    await waitUntil(() => t?.trace.some((e) => e.type === 'connected' && e.backlogThrough >= downTo) ?? false, 'reconnected');
    await sleep(300);
    field.stop();
    await waitUntil(() => t?.outbox.stats().records === 0, 'outbox drained');
    const lastSeq = t.outbox.stats().lastSeq;
    await waitUntil(() => new Set(arrivals(platform).map((a) => a.seq)).size === lastSeq, 'all seqs on the wire');

    const { historical } = checkDelivery(t, platform);
    const duringOutage = field.appendedWhile({ from: downFrom, to: downTo });
    expect(duringOutage.length).toBeGreaterThan(100);
    expect(duringOutage.filter((seq) => !historical.has(seq)), 'outage data not marked historical').toEqual([]);
    expect(t.uplink.stats().delivered.liveRecords).toBeGreaterThan(0);
  });

  it('a broker that refuses connections is retried with spreading back-off, not hammered', async () => {
    proxy.setMode('refuse');
    t = makeUplink(proxy.url, broker, { reconnect: { minDelayMs: 50, maxDelayMs: 1000, stableAfterMs: 5000 } });
    t.uplink.start();
    await sleep(3000);
    const attempts = proxy.connections;
    // Full jitter over caps 50, 100, 200, 400, 800, 1000, ... ms: about 8 attempts expected in 3 s; no back-off would be hundreds.
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(30);
    const delays = t.trace.flatMap((e) => (e.type === 'connect-failed' ? [e.retryInMs] : []));
    expect(delays.every((d) => d >= 0 && d <= 1000)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(1);
    proxy.setMode('pass');
    await waitUntil(() => t?.uplink.stats().state === 'online', 'online once the broker accepts');
  });

  it('a broker that accepts then drops every connection does not reset the back-off', async () => {
    proxy.setMode('drop-after-connack');
    t = makeUplink(proxy.url, broker, { reconnect: { minDelayMs: 50, maxDelayMs: 1000, stableAfterMs: 5000 } });
    t.outbox.append('telemetry', reading('tank1.h2s', 1), clock.stamp());
    t.uplink.start();
    await sleep(3000);
    expect(proxy.connections).toBeGreaterThanOrEqual(3);
    expect(proxy.connections).toBeLessThanOrEqual(30);
    proxy.setMode('pass');
    await waitUntil(() => t?.outbox.stats().records === 0, 'delivered once the broker keeps the connection');
    await waitUntil(() => arrivals(platform).length > 0, 'on the wire');
    checkDelivery(t, platform);
  });

  it('a broker that stalls (no PUBACK) keeps memory bounded: window, live queue and mqtt.js hold only so much; all arrives after', async () => {
    t = makeUplink(proxy.url, broker, {
      delivery: { window: 8, batchRecords: 20, maxLiveQueue: 500, ackTimeoutMs: 1500, replayRecordsPerSecond: 50_000 },
    });
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'online');
    broker.stall();
    let maxLive = 0;
    let maxInflight = 0;
    let maxHeld = 0;
    const sample = (): void => {
      const s = t?.uplink.stats();
      if (!s) return;
      maxLive = Math.max(maxLive, s.liveQueued);
      maxInflight = Math.max(maxInflight, s.inflight);
      maxHeld = Math.max(maxHeld, s.transportHeld.queued + s.transportHeld.outgoing);
    };
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 300; i++) t.outbox.append('telemetry', reading('tank1.h2s', i % 30), clock.stamp());
      sample();
      await sleep(20);
      sample();
    }
    expect(t.outbox.stats().records).toBeGreaterThan(25_000);
    expect(maxLive).toBeLessThanOrEqual(500);
    expect(maxInflight).toBeLessThanOrEqual(8);
    expect(maxHeld).toBeLessThanOrEqual(8);
    expect(t.uplink.stats().delivered.liveOverflows).toBeGreaterThan(0);
    broker.resume();
    await waitUntil(() => t?.outbox.stats().records === 0, 'drained after the stall', 60_000);
    const lastSeq = t.outbox.stats().lastSeq;
    await waitUntil(() => new Set(arrivals(platform).map((a) => a.seq)).size === lastSeq, 'all seqs on the wire');
    checkDelivery(t, platform);
  });

  it('a broker that answers slowly changes nothing but throughput: no reconnect, no exception, everything once', async () => {
    proxy.delayToClientMs = 150;
    t = makeUplink(proxy.url, broker, { delivery: { window: 4, batchRecords: 25, ackTimeoutMs: 5000 } });
    t.uplink.start();
    const field = load(t.outbox);
    await sleep(1500);
    field.stop();
    await waitUntil(() => t?.outbox.stats().records === 0, 'drained through the slow broker');
    const lastSeq = t.outbox.stats().lastSeq;
    await waitUntil(() => new Set(arrivals(platform).map((a) => a.seq)).size === lastSeq, 'all seqs on the wire');
    const { duplicates } = checkDelivery(t, platform);
    expect(duplicates).toEqual([]);
    expect(t.trace.filter((e) => e.type === 'disconnected')).toEqual([]);
    expect(t.uplink.stats().delivered.ackTimeouts).toBe(0);
  });
});
