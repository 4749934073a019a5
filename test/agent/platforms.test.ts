import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/index.js';
import { site as siteSchema } from '../../config/schema/index.js';
import { startTcpSimulator } from '../../drivers/simulator/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { FaultProxy } from '../uplink/fault-proxy.js';
import { shippedProfiles } from '../support/profiles.js';
import { ch4Channel, gasProbeDevice, simulatedGasProbe, tcpBusFor } from '../support/sites.js';
import { until } from '../support/until.js';

// One gateway, two platforms on two brokers, one outbox: each platform has its own cursor, so a platform
// that is down keeps its backlog while the other stays current, and each gets every reading exactly once
// in its own stream (by seq).

const profiles = shippedProfiles();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Received {
  seqs: number[];
  historical: number;
}

async function subscriber(broker: TestBroker, filter: string): Promise<Received> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: broker.protocolVersion, reconnectPeriod: 200 });
  cleanups.push(() => client.endAsync());
  const received: Received = { seqs: [], historical: 0 };
  client.on('message', (topic, payload) => {
    if (!topic.endsWith('/telemetry')) return;
    const body = JSON.parse(payload.toString()) as { readings: Array<{ seq: number; historical: boolean }> };
    for (const r of body.readings) {
      received.seqs.push(r.seq);
      if (r.historical) received.historical++;
    }
  });
  client.on('connect', () => void client.subscribe(filter, { qos: 1 }));
  await client.subscribeAsync(filter, { qos: 1 });
  return received;
}

async function setup(): Promise<{ agent: RunningAgent; district: TestBroker; nationalLink: FaultProxy; toDistrict: Received; toNational: Received; dataDir: string }> {
  const district = await startBroker();
  const national = await startBroker();
  cleanups.push(() => district.close(), () => national.close());
  // The national link goes through a proxy the test can cut: the broker and its subscriber stay up, so the
  // subscriber misses nothing the gateway delivers once the link is back.
  const nationalLink = await FaultProxy.start(national.port);
  cleanups.push(() => nationalLink.close());
  const sim = await startTcpSimulator({ devices: [simulatedGasProbe(profiles, { ramp: { from: 1, to: 9, overMs: 3000, repeat: true } })] });
  cleanups.push(() => sim.close());
  const toDistrict = await subscriber(district, 'district/#');
  const toNational = await subscriber(national, 'national/#');

  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-platforms-'));
  const settings = loadSettings({ env: { VIGIL_GATEWAY_ID: 'gw1', VIGIL_DATA_DIR: dataDir } });
  const protocol = district.protocolVersion === 4 ? '3.1.1' : '5';
  const site = siteSchema.parse({
    site: { id: 'tank', name: 'tank' },
    buses: [tcpBusFor(sim)],
    devices: [gasProbeDevice({ channels: [ch4Channel({ report: { heartbeat: '100ms' } })] })],
    platforms: [
      { id: 'district', profile: 'native', broker: { url: district.url, protocol }, native: { topicPrefix: 'district' } },
      { id: 'national', profile: 'native', broker: { url: nationalLink.url, protocol }, native: { topicPrefix: 'national' } },
    ],
  });
  const agent = await startAgent({ site, profiles, logger: silentLogger(), dataDir, settings, version: '0.0.0-test' });
  cleanups.push(() => agent.stop());
  return { agent, district, nationalLink, toDistrict, toNational, dataDir };
}

function missing(seqs: readonly number[], from: number, through: number): number[] {
  const have = new Set(seqs);
  const gaps: number[] = [];
  for (let seq = from; seq <= through; seq++) if (!have.has(seq)) gaps.push(seq);
  return gaps;
}

describe('several platforms over one outbox', () => {
  it('a platform that is down keeps its backlog while the other stays current; afterwards both have everything', async () => {
    const { agent, nationalLink, toDistrict, toNational } = await setup();
    const parts = agent.uplink!;
    expect(parts.platforms.map((p) => p.id)).toEqual(['district', 'national']);
    await until(() => toDistrict.seqs.length >= 5 && toNational.seqs.length >= 5, 20_000);

    await nationalLink.down();
    const outageStart = parts.outbox.stats().lastSeq;
    await until(() => parts.outbox.stats().lastSeq >= outageStart + 20, 20_000);
    // The district platform keeps up during the national outage: it has received readings taken after it began.
    await until(() => toDistrict.seqs.some((seq) => seq > outageStart + 10), 20_000);
    const national_ = parts.platforms.find((p) => p.id === 'national')!;
    expect(national_.cursor!.pending()).toBeGreaterThan(0);
    // Records the national platform has not had yet are still in the outbox.
    expect(parts.outbox.stats().records).toBeGreaterThan(0);

    await nationalLink.up();
    const through = parts.outbox.stats().lastSeq;
    await until(() => toNational.seqs.some((seq) => seq >= through) && toDistrict.seqs.some((seq) => seq >= through), 30_000);
    const first = Math.max(Math.min(...toDistrict.seqs), Math.min(...toNational.seqs));
    expect(missing(toDistrict.seqs, first, through)).toEqual([]);
    expect(missing(toNational.seqs, first, through)).toEqual([]);
    expect(toNational.historical).toBeGreaterThan(0);
    // Acked by both: the outbox empties down to what is in flight.
    await until(() => parts.outbox.stats().records < 20, 20_000);
  });

  it('a platform that cannot start (unreadable credentials) leaves the field side and the others running, and its data in the outbox', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const sim = await startTcpSimulator({ devices: [{ unit: 1, profile: profiles.get('crack-drawwire-u16')!, values: { displacement: { constant: 12.34 } } }] });
    cleanups.push(() => sim.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-platforms-'));
    const apiKey = join(dataDir, 'apikey');
    writeFileSync(apiKey, 'k3y\n');
    const received = await subscriber(broker, 'good/#');
    const protocol = broker.protocolVersion === 4 ? '3.1.1' : '5';
    const site = siteSchema.parse({
      site: { id: 'rock', name: 'rock' },
      buses: [tcpBusFor(sim)],
      devices: [{ id: 'gauge', bus: 'b', unit: 1, profile: 'crack-drawwire-u16', interval: '100ms', channels: [{ id: 'crack1', register: 'displacement', report: { heartbeat: '100ms' } }] }],
      platforms: [
        { id: 'good', profile: 'native', broker: { url: broker.url, protocol }, native: { topicPrefix: 'good' } },
        { id: 'broken', profile: 'native', broker: { url: broker.url, protocol, passwordFile: join(dataDir, 'no-such-file') } },
        // A key alone is enough where the protocol derives the user name.
        { id: 'geo', profile: 'geohazard', broker: { url: broker.url, protocol, passwordFile: apiKey }, geohazard: { deviceId: 'GH1', channels: { crack1: 'L1_LF_1' } } },
      ],
    });
    const agent = await startAgent({ site, profiles, logger: silentLogger(), dataDir, settings: loadSettings({ env: { VIGIL_DATA_DIR: dataDir } }), version: '0.0.0-test' });
    cleanups.push(() => agent.stop());
    const parts = agent.uplink!;
    expect(parts.platforms.map((p) => p.id)).toEqual(['good', 'geo']);
    await until(() => received.seqs.length >= 10 && agent.latest.get('crack1')?.quality === 'good', 20_000);
    // Delivered to "good" (and "geo"), never to "broken": still held for it.
    expect(parts.outbox.stats().records).toBeGreaterThanOrEqual(received.seqs.length);
  });

  it('refuses a platforms list that names a channel that does not exist, with where and a hint', async () => {
    const { loadSiteText } = await import('../../config/index.js');
    const text = [
      'site: { id: t, name: t }',
      'buses: [{ id: b, tcp: { host: 127.0.0.1, port: 1502 } }]',
      'devices:',
      '  - { id: rock, bus: b, unit: 1, profile: crack-drawwire-u16, channels: [{ id: crack1, register: displacement }] }',
      'platforms:',
      '  - id: geo',
      '    profile: geohazard',
      '    broker: { url: "mqtt://127.0.0.1:1883" }',
      '    geohazard: { deviceId: D1, channels: { crak1: L1_LF_1 } }',
      '  - id: geo',
      '    profile: native',
      '    broker: { url: "mqtt://127.0.0.1:1884" }',
    ].join('\n');
    const result = loadSiteText(text, 'site.yaml');
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map((e) => `${e.line}: ${e.message} ${e.hint ?? ''}`);
    expect(messages).toContainEqual(expect.stringMatching(/^9: no channel "crak1".*crack1/));
    expect(messages).toContainEqual(expect.stringMatching(/^10: platform id "geo" is used twice.*line 6/));
  });
});
