import { describe, expect, it } from 'vitest';
import type { DeliverySession } from '../../agent/uplink/delivery.js';
import type { OutgoingMessage } from '../../agent/uplink/index.js';
import type { PublishOutcome } from '../../agent/uplink/transport.js';
import { until } from '../support/until.js';
import { InMemoryOutbox } from './memory-outbox.js';
import { testSession } from './session.js';

// Live telemetry waits up to lingerMs for more readings, so a poll round travels as one message; events never
// wait, and take the waiting telemetry with them so the wire keeps the seq order.

const stamp = { wallTs: 1_790_000_000_000, monoTs: 0, clockSynced: true };
const reading = (i: number): unknown => ({ channelId: `c${i}`, deviceId: `d${i}`, value: i, unit: 'ppm', quality: 'good' });
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

function session(outbox: InMemoryOutbox, lingerMs: number, published: OutgoingMessage[]): DeliverySession {
  const publish = (message: OutgoingMessage, done: (outcome: PublishOutcome) => void): void => {
    published.push(message);
    done({ kind: 'acked' });
  };
  return testSession({ outbox, publish, lingerMs, limits: { maxRecords: 4, maxBytes: 64 * 1024 } });
}

/** The seqs a native message carries, in wire order. */
function seqsOf(message: OutgoingMessage): number[] {
  const body = JSON.parse(message.payload.toString()) as { seq?: number; readings?: Array<{ seq: number }> };
  return body.readings ? body.readings.map((r) => r.seq) : [body.seq!];
}

describe('live telemetry lingers; events do not', () => {
  it('readings appended within the linger leave together, in one message', async () => {
    const outbox = new InMemoryOutbox();
    const published: OutgoingMessage[] = [];
    const s = session(outbox, 30, published);
    s.start();
    for (let i = 0; i < 3; i++) outbox.append('telemetry', reading(i), stamp);
    await until(() => published.length > 0, 5000, 'the lingered batch');
    await settle();
    s.stop();
    expect(published.map(seqsOf)).toEqual([[1, 2, 3]]);
    expect(outbox.stats().records).toBe(0);
  });

  it('an event goes at once and takes the waiting readings first; a full batch does not wait either', async () => {
    const outbox = new InMemoryOutbox();
    const published: OutgoingMessage[] = [];
    // A linger no test outlives: whatever is sent below was sent without it.
    const s = session(outbox, 3_600_000, published);
    s.start();
    outbox.append('telemetry', reading(1), stamp);
    outbox.append('telemetry', reading(2), stamp);
    await settle();
    expect(published).toHaveLength(0);

    outbox.append('event', { type: 'alarm-raised', channelId: 'c1', value: 25, rule: 'c1 ≥ 20 ppm (L1)', cause: 'threshold', wallTs: stamp.wallTs, monoTs: 0, clockSynced: true }, stamp);
    await settle();
    expect(published.map(seqsOf)).toEqual([[1, 2], [3]]);

    // maxRecords is 4: the fourth reading fills a batch, which goes without waiting.
    for (let i = 4; i <= 7; i++) outbox.append('telemetry', reading(i), stamp);
    await settle();
    s.stop();
    expect(published.map(seqsOf)).toEqual([[1, 2], [3], [4, 5, 6, 7]]);
  });

  it('lingerMs 0 sends each append at once', async () => {
    const outbox = new InMemoryOutbox();
    const published: OutgoingMessage[] = [];
    const s = session(outbox, 0, published);
    s.start();
    outbox.append('telemetry', reading(1), stamp);
    await settle();
    outbox.append('telemetry', reading(2), stamp);
    await settle();
    s.stop();
    expect(published.map(seqsOf)).toEqual([[1], [2]]);
  });

  it('a clean stop sends what lingers and waits for its PUBACK (settleLive)', async () => {
    const outbox = new InMemoryOutbox();
    const published: OutgoingMessage[] = [];
    // The broker answers a little later, as over a network.
    const publish = (message: OutgoingMessage, done: (outcome: PublishOutcome) => void): void => {
      published.push(message);
      setTimeout(() => done({ kind: 'acked' }), 20);
    };
    const s = testSession({ outbox, publish, lingerMs: 3_600_000 });
    s.start();
    outbox.append('telemetry', reading(1), stamp);
    outbox.append('telemetry', reading(2), stamp);
    await settle();
    expect(published).toHaveLength(0);
    await s.settleLive();
    expect(published.map(seqsOf)).toEqual([[1, 2]]);
    expect(outbox.stats().records).toBe(0);
    s.stop();
    // Nothing lingering and nothing in flight: it resolves at once.
    await expect(s.settleLive()).resolves.toBeUndefined();
  });
});
