import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttributeIds, MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy, type ClientSession } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/index.js';
import { site as siteSchema, type SiteInput } from '../../config/schema/index.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { shippedProfiles } from '../support/profiles.js';
import { until } from '../support/until.js';

// Ids are unique only within their kind in the site file: here a relay-board device and the output it drives
// are both called "fan". The OPC UA node ids carry the kind, so the server starts and both are browsable.

const profiles = shippedProfiles();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

function siteFor(sim: RunningSimulator): SiteInput {
  if (sim.endpoint.kind !== 'tcp') throw new Error('tcp expected');
  return {
    site: { id: 'fan', name: 'Site named like its fan', kind: 'septic-tank' },
    buses: [{ id: 'b', tcp: { host: sim.endpoint.host, port: sim.endpoint.port }, timeoutMs: 200, retries: 0 }],
    devices: [
      { id: 'probe', bus: 'b', unit: 1, profile: 'gas-module-10reg', interval: '100ms', channels: [{ id: 'fan.ch4', register: 'concentration', range: { min: 0, max: 100 } }] },
      { id: 'fan', bus: 'b', unit: 10, profile: 'relay-board-8ch', interval: '1s', channels: [{ id: 'fan', register: 'relay_1' }] },
    ],
    outputs: [{ id: 'fan', kind: 'fan', modbus: { device: 'fan', register: 'relay_1' }, when: { any: [{ alarm: 'L1', channels: ['fan.ch4'] }] }, minOn: '0s', minOff: '0s' }],
  };
}

let dataDir: string;
let clientPki: string;
let sim: RunningSimulator;
let agent: RunningAgent;
let client: OPCUAClient;
let session: ClientSession;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-opcua-ids-'));
  clientPki = mkdtempSync(join(tmpdir(), 'vigil-opcua-ids-client-'));
  sim = await startTcpSimulator({
    devices: [
      { unit: 1, profile: profiles.get('gas-module-10reg')!, values: { unit_code: { constant: 0x2400 }, concentration: { constant: 3 } } },
      { unit: 10, profile: profiles.get('relay-board-8ch')! },
    ],
  });
  const port = await freePort();
  const settings = loadSettings({
    env: {},
    args: { dataDir, 'opcua.enabled': true, 'opcua.port': port, 'opcua.allowAnonymous': true, 'opcua.allowUnsecured': true },
  });
  agent = await startAgent({ site: siteSchema.parse(siteFor(sim)), profiles, logger: silentLogger(), dataDir, settings });
  const server = await agent.opcua!.ready;
  if (!server) throw new Error('OPC UA server did not start');
  client = OPCUAClient.create({
    applicationName: 'vigil-test-client',
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100 },
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: clientPki, automaticallyAcceptUnknownCertificate: true }),
  });
  await client.connect(`opc.tcp://127.0.0.1:${port}`);
  session = await client.createSession();
}, 120_000);

afterAll(async () => {
  await session?.close().catch(() => undefined);
  await client?.disconnect().catch(() => undefined);
  await agent?.stop();
  await sim?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(clientPki, { recursive: true, force: true });
}, 60_000);

const names = async (nodeId: string): Promise<string[]> => {
  const result = await session.browse(nodeId);
  expect(result.statusCode.name).toBe('Good');
  return (result.references ?? []).map((r) => r.browseName.name ?? '');
};

describe('OPC UA node ids carry their kind', () => {
  it('a site, a device, a channel and an output all called "fan" each have their own node', async () => {
    expect(await names('ns=1;s=site/fan')).toEqual(expect.arrayContaining(['Gateway', 'Devices', 'Outputs']));
    expect(await names('ns=1;s=site/fan/Devices')).toEqual(expect.arrayContaining(['probe', 'fan']));
    expect(await names('ns=1;s=site/fan/Outputs')).toEqual(['fan']);

    expect(await names('ns=1;s=device/fan')).toEqual(expect.arrayContaining(['fan', 'Diagnostics']));
    expect(await names('ns=1;s=output/fan')).toEqual(expect.arrayContaining(['State', 'Cause', 'Force', 'Release']));
    expect(await names('ns=1;s=device/fan/Diagnostics')).toEqual(expect.arrayContaining(['Requests', 'Timeouts']));

    await until(() => agent.latest.get('fan.ch4')?.quality === 'good', 10_000, 'first reading of fan.ch4');
    const value = await session.read({ nodeId: 'ns=1;s=channel/fan.ch4', attributeId: AttributeIds.Value });
    expect(value.value.value).toBe(3);
    const relay = await session.read({ nodeId: 'ns=1;s=channel/fan', attributeId: AttributeIds.Value });
    expect(relay.statusCode.name).not.toBe('BadNodeIdUnknown');
    const state = await session.read({ nodeId: 'ns=1;s=output/fan/State', attributeId: AttributeIds.Value });
    expect(state.statusCode.name).toBe('Good');
    expect(typeof state.value.value).toBe('boolean');
  }, 60_000);
});
