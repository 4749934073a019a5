import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings, loadSite } from '../../config/index.js';
import { startTcpSimulator } from '../../drivers/simulator/index.js';
import { AgentSupervisor } from '../../agent/main/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startBroker } from '../support/broker.js';
import { shippedProfiles } from '../support/profiles.js';
import { until as waitUntil } from '../support/until.js';

// A site config pushed by the platform: validated like `vigil check`, written atomically, applied, and rolled
// back by itself when the new config cannot poll or connect. Real broker, real simulator, real files.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = (condition: () => boolean, timeoutMs = 20_000): Promise<void> => waitUntil(condition, timeoutMs);

function siteText(port: number, indicator: string): string {
  return [
    'site: { id: tank, name: tank }',
    'buses:',
    `  - { id: b, tcp: { host: 127.0.0.1, port: ${port} }, timeoutMs: 200 }`,
    'devices:',
    '  - id: probe',
    '    bus: b',
    '    unit: 1',
    '    profile: gas-module-10reg',
    '    interval: 200ms',
    '    channels:',
    `      - { id: tank.ch4, register: concentration, indicator: ${indicator}, range: { min: 0, max: 100 } }`,
    '',
  ].join('\n');
}

async function setup() {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const sim = await startTcpSimulator({
    devices: [{ unit: 1, profile: shippedProfiles().get('gas-module-10reg')!, values: { unit_code: { constant: 0x2400 }, concentration: { constant: 5 } } }],
  });
  cleanups.push(() => sim.close());
  if (sim.endpoint.kind !== 'tcp') throw new Error('tcp expected');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-push-'));
  const siteFile = join(dir, 'site.yaml');
  const original = siteText(sim.endpoint.port, 'OLD_CODE');
  writeFileSync(siteFile, original);

  const platform = await mqtt.connectAsync(broker.url, { protocolVersion: broker.protocolVersion, reconnectPeriod: 200 });
  cleanups.push(() => platform.endAsync());
  const results: Array<{ id: string | null; status: string; message?: string }> = [];
  const indicators: string[] = [];
  platform.on('message', (topic, payload) => {
    if (topic.endsWith('/command')) return;
    const body = JSON.parse(payload.toString()) as { readings?: Array<{ indicator?: string }> };
    if (topic.endsWith('/command/result')) results.push(body as (typeof results)[number]);
    if (topic.endsWith('/telemetry')) for (const r of body.readings ?? []) if (r.indicator) indicators.push(r.indicator);
  });
  await platform.subscribeAsync('vigil/tank/gw1/#', { qos: 1 });

  const settings = loadSettings({
    env: { VIGIL_MQTT_URL: broker.url, VIGIL_MQTT_PROTOCOL: broker.protocolVersion === 4 ? '3.1.1' : '5', VIGIL_GATEWAY_ID: 'gw1', VIGIL_DATA_DIR: join(dir, 'data') },
  });
  const loaded = loadSite(siteFile);
  if (!loaded.ok) throw new Error('fixture site invalid');
  const supervisor = new AgentSupervisor({ siteFile, settings, logger: silentLogger(), version: 'test', rollbackAfterMs: 3000 });
  await supervisor.start({ site: loaded.site, profiles: new Map([...loaded.profiles].map(([id, e]) => [id, e.profile])) });
  cleanups.push(() => supervisor.stop());
  await until(() => indicators.includes('OLD_CODE'));

  let n = 0;
  const push = (site: string) =>
    platform.publishAsync('vigil/tank/gw1/command', JSON.stringify({ v: 1, id: `push-${++n}`, issuedAt: Date.now(), ttl: 60_000, command: { action: 'push-config', site } }), { qos: 1 });
  return { siteFile, original, port: sim.endpoint.port, push, results, indicators, supervisor };
}

describe('config pushed by the platform', () => {
  it('applies a valid config, keeping the running one as .previous', async () => {
    const { siteFile, original, port, push, results, indicators } = await setup();
    await push(siteText(port, 'NEW_CODE'));
    await until(() => results.some((r) => r.id === 'push-1'));
    expect(results.find((r) => r.id === 'push-1')?.status).toBe('done');
    await until(() => indicators.includes('NEW_CODE'));
    expect(readFileSync(siteFile, 'utf8')).toContain('NEW_CODE');
    expect(readFileSync(`${siteFile}.previous`, 'utf8')).toBe(original);
  });

  it('refuses an invalid config with the errors and changes nothing', async () => {
    const { siteFile, original, port, push, results } = await setup();
    await push(siteText(port, 'X').replace('interval: 200ms', 'intervall: 200ms'));
    await until(() => results.some((r) => r.id === 'push-1'));
    const result = results.find((r) => r.id === 'push-1')!;
    expect(result.status).not.toBe('done');
    expect(JSON.stringify(result)).toContain('intervall');
    expect(readFileSync(siteFile, 'utf8')).toBe(original);
  });

  it('rolls back by itself to the previous config when the new one cannot poll', async () => {
    const { siteFile, original, push, results, supervisor } = await setup();
    await push(siteText(1, 'DEAD_BUS'));
    await until(() => results.some((r) => r.id === 'push-1'));
    await until(() => readFileSync(siteFile, 'utf8') === original, 20_000);
    await until(() => supervisor.running?.site.devices[0]?.channels[0]?.indicator === 'OLD_CODE');
    await until(() => supervisor.running?.latest.get('tank.ch4')?.quality === 'good');
  });
});
