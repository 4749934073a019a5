import { afterEach, describe, expect, it } from 'vitest';
import { createNativeProfile, type PlatformProfile, type ProfileContext } from '../../agent/uplink/index.js';
import { createSparkplugProfile } from '../../agent/uplink/profiles/sparkplug/index.js';
import { detachedProfileHost } from '../../agent/uplink/profile.js';
import { sparkplugOptions } from '../../config/schema/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { gasReading, openTempOutbox, PlatformClient, profileUplink, testClock, type TempOutbox } from '../support/platform-profile.js';
import { until } from '../support/until.js';

// A record a profile cannot encode must cost only itself: never the delivery timers, never the process (an
// escaped exception would end the agent, and with it the local safety control, in a restart loop).

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The native profile, except that it cannot encode a reading of 666 (standing in for any profile bug). */
function fragileProfile(ctx: ProfileContext): PlatformProfile {
  const native = createNativeProfile(ctx);
  return {
    ...native,
    encodeTelemetry(batch) {
      if (batch.some((d) => d.reading.value === 666)) throw new RangeError('cannot carry 666');
      return native.encodeTelemetry(batch);
    },
  };
}

describe('a record the profile cannot encode', () => {
  it('is dropped for that platform and counted; the records around it are delivered, in order', async () => {
    const broker: TestBroker = await startBroker();
    cleanups.push(() => broker.close());
    const temp: TempOutbox = await openTempOutbox();
    cleanups.push(() => temp.close());
    const platform = await PlatformClient.connect(broker, ['vigil/#']);
    cleanups.push(() => platform.close());
    const values = [1, 2, 666, 4, 5];
    for (const value of values) temp.outbox.append('telemetry', gasReading('tank.h2s', 'probe', value), testClock.stamp());
    const uplink = profileUplink({ broker, outbox: temp.outbox, profile: fragileProfile, channels: [{ id: 'tank.h2s', deviceId: 'probe' }] });
    cleanups.push(() => uplink.stop());
    uplink.start();
    const delivered = (): number[] =>
      platform.on('vigil/site1/gw-test/telemetry').flatMap((m) => (JSON.parse(m.text) as { readings: Array<{ value: number }> }).readings.map((r) => r.value));
    await until(() => delivered().includes(5), 10_000, 'the records after the bad one');
    expect(delivered()).toEqual([1, 2, 4, 5]);
    expect(uplink.stats().delivered.unencodable).toBe(1);
    expect(uplink.stats().state).toBe('online');
    // Live data keeps flowing afterwards.
    temp.outbox.append('telemetry', gasReading('tank.h2s', 'probe', 7), testClock.stamp());
    await until(() => delivered().includes(7), 10_000, 'live data after the bad record');
  });
});

describe('Sparkplug timestamps', () => {
  it('a corrected wall time with a fraction of a millisecond encodes (whole ms on the wire)', () => {
    const profile = createSparkplugProfile(
      { siteId: 's', gatewayId: 'gw', topicPrefix: 'x', host: detachedProfileHost() },
      sparkplugOptions.parse({ groupId: 'city' }),
      [{ id: 'tank.h2s', deviceId: 'probe' }],
    );
    profile.sessionStarted?.();
    profile.encodeBirth({ ts: 1_790_000_000_000, clock: 'synced', version: '1', configHash: 'c', channels: [{ id: 'tank.h2s', deviceId: 'probe' }], latest: [] });
    const encode = (): unknown =>
      profile.encodeTelemetry([
        { stream: 'telemetry', seq: 1, ts: 1_790_000_000_123.4567, clock: 'corrected', historical: true, reading: gasReading('tank.h2s', 'probe', 3) },
      ]);
    expect(encode).not.toThrow();
  });
});
