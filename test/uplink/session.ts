import { newCounters, DeliverySession, type DeliveryOptions } from '../../agent/uplink/delivery.js';
import { createNativeProfile } from '../../agent/uplink/index.js';
import { TokenBucket } from '../../agent/uplink/token-bucket.js';

/**
 * A delivery session over a test outbox and a test publish: an unpaced replay, a roomy window, nothing that
 * stalls. Each test overrides what it is about (the window, the profile, the linger).
 */
export function testSession(options: Pick<DeliveryOptions, 'outbox' | 'publish'> & Partial<DeliveryOptions>): DeliverySession {
  return new DeliverySession({
    profile: createNativeProfile({ siteId: 's', gatewayId: 'g', topicPrefix: 'v' }),
    window: 8,
    liveReserve: 2,
    limits: { maxRecords: 10, maxBytes: 64 * 1024 },
    bucket: new TokenBucket(1e6, 1e6, () => performance.now()),
    maxLiveRecords: 1000,
    lingerMs: 0,
    ackTimeoutMs: 60_000,
    counters: newCounters(),
    onStall: () => undefined,
    onRejected: () => undefined,
    onReadError: (error) => {
      throw error;
    },
    ...options,
  });
}
