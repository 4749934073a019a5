import { describe, expect, it } from 'vitest';
import { createNativeProfile, type OutgoingMessage, type PlatformProfile } from '../../agent/uplink/index.js';
import type { PublishOutcome } from '../../agent/uplink/transport.js';
import { InMemoryOutbox } from './memory-outbox.js';
import { testSession } from './session.js';

// The broker's receive maximum (MQTT 5) bounds QoS 1 messages in flight, not batches: a profile that sends one
// message per field device must not put more on the wire than the window, whatever its batches look like.

/** One message per reading: like Sparkplug's DDATA per device when every reading is another device. */
function perReadingProfile(): PlatformProfile {
  const native = createNativeProfile({ siteId: 's', gatewayId: 'g', topicPrefix: 'v' });
  return { ...native, encodeTelemetry: (batch) => batch.map((d) => native.encodeTelemetry([d])) };
}

describe('the in-flight window counts messages', () => {
  it('never more than the window unanswered, with multi-message batches, live and replayed; everything acked in the end', async () => {
    const outbox = new InMemoryOutbox();
    const stamp = { wallTs: 1_790_000_000_000, monoTs: 0, clockSynced: true };
    for (let i = 0; i < 40; i++) outbox.append('telemetry', { channelId: `c${i % 7}`, deviceId: `d${i % 7}`, value: i, unit: 'ppm', quality: 'good' }, stamp);

    const waiting: Array<() => void> = [];
    let outstanding = 0;
    let most = 0;
    const published: OutgoingMessage[] = [];
    const window = 3;
    const session = testSession({
      outbox,
      publish: (message, done: (outcome: PublishOutcome) => void) => {
        published.push(message);
        outstanding++;
        most = Math.max(most, outstanding);
        waiting.push(() => {
          outstanding--;
          done({ kind: 'acked' });
        });
      },
      profile: perReadingProfile(),
      window,
      liveReserve: 1,
    });
    session.start();
    // Live records arrive while the replay runs.
    for (let i = 40; i < 50; i++) outbox.append('telemetry', { channelId: 'live', deviceId: 'live', value: i, unit: 'ppm', quality: 'good' }, stamp);

    // The broker answers one message at a time, in no hurry.
    for (let rounds = 0; rounds < 10_000 && outbox.stats().records > 0; rounds++) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(outstanding).toBeLessThanOrEqual(window);
      waiting.shift()?.();
    }
    session.stop();
    expect(most).toBe(window);
    expect(published.length).toBe(50);
    expect(outbox.stats().records).toBe(0);
  });
});
