import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.js';
import { FaultProxy } from './fault-proxy.js';
import { BASE, GATEWAY, Subscriber, expectValid, makeUplink, waitUntil, type TestUplink } from './helpers.js';

describe('birth and will (retained state)', () => {
  let broker: TestBroker;
  let proxy: FaultProxy;
  let t: TestUplink | undefined;

  beforeEach(async () => {
    broker = await startBroker();
    proxy = await FaultProxy.start(broker.port);
  });

  afterEach(async () => {
    await t?.uplink.stop(200);
    await proxy.close();
    await broker.close();
  });

  it('publishes a retained online state with version, config hash and channels; a late subscriber sees it', async () => {
    t = makeUplink(proxy.url, broker);
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'uplink online');
    const platform = await Subscriber.connect(broker, [`${BASE}/state`]);
    await waitUntil(() => platform.on('state').length > 0, 'retained state');
    const [state] = platform.on('state');
    expect(state?.retain).toBe(true);
    expect(state?.body).toMatchObject({
      v: 1,
      gateway: GATEWAY,
      online: true,
      reason: 'connected',
      version: '0.1.0-test',
      configHash: 'sha256:abc',
      channels: [{ id: 'tank1.h2s', device: 'tank1', indicator: 'H2S', unit: 'ppm' }],
    });
    await platform.close();
  });

  it('after an unclean stop the birth names the seqs the outbox skipped; after a clean one it says nothing', async () => {
    // The run before this one was killed too, before it ever connected: its range is named only in the list.
    const ranges = [{ from: 3001, to: 8122 }, { from: 8123, to: 18_122 }];
    t = makeUplink(proxy.url, broker, { skippedSeqs: () => ({ from: 8123, to: 18_122 }), skippedRanges: () => ranges });
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'uplink online');
    const platform = await Subscriber.connect(broker, [`${BASE}/state`]);
    await waitUntil(() => platform.on('state').length > 0, 'retained state');
    expect(platform.on('state')[0]?.body).toMatchObject({ online: true, skippedSeqs: { from: 8123, to: 18_122 }, skippedRanges: ranges });
    expectValid('state', platform.on('state')[0]?.body);
    await platform.close();
    await t.uplink.stop(200);

    t = makeUplink(proxy.url, broker, { skippedSeqs: () => null });
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'uplink online again');
    const later = await Subscriber.connect(broker, [`${BASE}/state`]);
    await waitUntil(() => later.on('state').some((m) => (m.body as { online?: boolean }).online === true), 'retained birth');
    const laterBirth = later.on('state').find((m) => (m.body as { online?: boolean }).online === true)?.body;
    expect(laterBirth).not.toHaveProperty('skippedSeqs');
    expect(laterBirth).not.toHaveProperty('skippedRanges');
    await later.close();
  });

  it('a killed client socket leaves the retained offline state (the will); reconnecting brings online back', async () => {
    t = makeUplink(proxy.url, broker);
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'uplink online');
    const platform = await Subscriber.connect(broker, [`${BASE}/state`]);
    await waitUntil(() => platform.on('state').some((m) => m.body.online === true), 'online state');

    await proxy.down(); // the socket dies without DISCONNECT and no reconnect can get through
    await waitUntil(() => platform.on('state').some((m) => m.body.online === false), 'will');
    const will = platform.on('state').find((m) => m.body.online === false);
    expect(will?.body).toMatchObject({ v: 1, gateway: GATEWAY, online: false, reason: 'connection-lost' });

    // A subscriber arriving now gets the retained will.
    const late = await Subscriber.connect(broker, [`${BASE}/state`]);
    await waitUntil(() => late.on('state').length > 0, 'retained will');
    expect(late.on('state')[0]?.body.online).toBe(false);
    expect(late.on('state')[0]?.retain).toBe(true);

    await proxy.up();
    await waitUntil(() => platform.on('state').at(-1)?.body.online === true, 'online again');
    await platform.close();
    await late.close();
  });

  it('an orderly stop leaves a retained offline state with reason shutdown', async () => {
    t = makeUplink(proxy.url, broker);
    t.uplink.start();
    await waitUntil(() => t?.uplink.stats().state === 'online', 'uplink online');
    await t.uplink.stop();
    t = undefined;
    const platform = await Subscriber.connect(broker, [`${BASE}/state`]);
    await waitUntil(() => platform.on('state').length > 0, 'retained state');
    expect(platform.on('state')[0]?.body).toMatchObject({ online: false, reason: 'shutdown' });
    await platform.close();
  });
});
