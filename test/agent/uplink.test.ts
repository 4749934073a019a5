import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/index.js';
import { site as siteSchema } from '../../config/schema/index.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { shippedProfiles } from '../support/profiles.js';
import { ch4Channel, gasProbeDevice, simulatedGasProbe, tcpBusFor } from '../support/sites.js';
import { until as waitUntil } from '../support/until.js';

// The whole path over real parts: simulated probe → bus → recorder → durable outbox → uplink → broker →
// a subscriber that reads the native contract; and a command back from the platform.

const profiles = shippedProfiles();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = (condition: () => boolean, timeoutMs = 20_000): Promise<void> => waitUntil(condition, timeoutMs);

interface WireReading {
  seq: number;
  channel: string;
  value: number | null;
  quality: string;
  historical: boolean;
}

async function setup(): Promise<{ agent: RunningAgent; broker: TestBroker; sim: RunningSimulator; received: WireReading[]; messages: Map<string, unknown[]>; platform: mqtt.MqttClient }> {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const sim = await startTcpSimulator({ devices: [simulatedGasProbe(profiles, { constant: 7 })] });
  cleanups.push(() => sim.close());

  const platform = await mqtt.connectAsync(broker.url, { protocolVersion: broker.protocolVersion, reconnectPeriod: 200 });
  cleanups.push(() => platform.endAsync());
  const received: WireReading[] = [];
  const messages = new Map<string, unknown[]>();
  platform.on('message', (topic, payload) => {
    if (topic.endsWith('/command')) return; // our own commands, echoed by the broker
    const body = JSON.parse(payload.toString()) as { readings?: WireReading[] };
    messages.set(topic, [...(messages.get(topic) ?? []), body]);
    if (topic.endsWith('/telemetry')) received.push(...(body.readings ?? []));
  });
  await platform.subscribeAsync('vigil/tank/gw1/#', { qos: 1 });

  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-uplink-'));
  const settings = loadSettings({
    env: { VIGIL_MQTT_URL: broker.url, VIGIL_MQTT_PROTOCOL: broker.protocolVersion === 4 ? '3.1.1' : '5', VIGIL_GATEWAY_ID: 'gw1', VIGIL_DATA_DIR: dataDir },
  });
  const site = siteSchema.parse({
    site: { id: 'tank', name: 'tank' },
    buses: [tcpBusFor(sim)],
    devices: [gasProbeDevice({ channels: [ch4Channel({ indicator: 'HJ_CH4', alarm: { gas: 'ch4' }, report: { heartbeat: '100ms' } })] })],
  });
  const agent = await startAgent({ site, profiles, logger: silentLogger(), dataDir, settings, version: '0.0.0-test' });
  cleanups.push(() => agent.stop());
  return { agent, broker, sim, received, messages, platform };
}

describe('agent → outbox → broker', () => {
  it('delivers readings in the native contract, with indicator codes and per-gateway sequence numbers', async () => {
    const { received, messages } = await setup();
    await until(() => received.filter((r) => r.channel === 'tank.ch4').length >= 5);
    const first = received.find((r) => r.channel === 'tank.ch4')!;
    expect(first).toMatchObject({ channel: 'tank.ch4', value: 7, quality: 'good', indicator: 'HJ_CH4' });
    const seqs = received.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(messages.get('vigil/tank/gw1/state')?.some((s) => (s as { online?: boolean }).online === true)).toBe(true);
  });

  it('keeps readings through a broker outage and delivers every one afterwards, the missed ones marked historical', async () => {
    const { agent, broker, received } = await setup();
    await until(() => received.length >= 5);
    await broker.stop();
    await new Promise((r) => setTimeout(r, 2000));
    const lastSeqDuringOutage = agent.uplink!.outbox.stats().lastSeq;
    await broker.start();
    await until(() => received.some((r) => r.seq >= lastSeqDuringOutage), 30_000);
    const seqs = [...new Set(received.map((r) => r.seq))].sort((a, b) => a - b);
    const firstSeq = seqs[0]!;
    const missing = [];
    for (let seq = firstSeq; seq <= lastSeqDuringOutage; seq++) if (!seqs.includes(seq)) missing.push(seq);
    expect(missing).toEqual([]);
    expect(received.some((r) => r.historical)).toBe(true);
  });

  it('carries out a command from the platform and answers on the result topic; refuses a malformed one', async () => {
    const { agent, platform, messages } = await setup();
    await until(() => agent.alarms.channel('tank.ch4')?.value === 7);
    await platform.publishAsync('vigil/tank/gw1/command', JSON.stringify({ v: 1, id: 'c-1', ttl: 60_000, issuedAt: Date.now(), command: { action: 'acknowledge', channel: 'tank.ch4' } }), { qos: 1 });
    await platform.publishAsync('vigil/tank/gw1/command', '{"v":1,"id":"c-2","command":', { qos: 1 });
    await until(() => (messages.get('vigil/tank/gw1/command/result') ?? []).length >= 2);
    const results = messages.get('vigil/tank/gw1/command/result') as Array<{ id: string | null; status: string }>;
    expect(results.find((r) => r.id === 'c-1')?.status).toBe('done');
    expect(results.some((r) => r.id !== 'c-1' && r.status === 'refused')).toBe(true);
  });
});
