import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type Settings } from '../../config/index.js';
import { site as siteSchema, type SiteInput } from '../../config/schema/index.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { shippedProfiles } from './profiles.js';
import { ch4Alarm, ch4Channel, fanOutput, gasProbeDevice, relayBoardDevice, simulatedGasProbe, simulatedRelayBoard, tcpBusFor } from './sites.js';

/**
 * A real agent with its outbox and local API in a fresh data folder, on a simulated tank: a methane probe (unit 1)
 * and a relay board (unit 10) speaking Modbus RTU over TCP. The fan follows L1; the lamp (relay 3) has no rule
 * and no minimum times, so a test force on it ends exactly at its expiry.
 */
export interface ApiTestSite {
  sim: RunningSimulator;
  agent: RunningAgent;
  dataDir: string;
  settings: Settings;
  socket: string;
  /** The relay board's coils: relay_1 = index 0 (fan), relay_3 = index 2 (lamp). */
  coil(index: number): boolean;
  close(): Promise<void>;
}

export const profiles = shippedProfiles();

export function apiSite(sim: RunningSimulator): SiteInput {
  return {
    site: { id: 'tank', name: 'Test tank', kind: 'septic-tank' },
    buses: [tcpBusFor(sim, { timeoutMs: 300, retries: 0 })],
    devices: [
      gasProbeDevice({ priority: 'critical', breaker: { failures: 100 }, channels: [ch4Channel({ alarm: ch4Alarm(2, { faultAfter: 3 }) })] }),
      relayBoardDevice({
        interval: '200ms',
        channels: [
          { id: 'tank.fan', register: 'relay_1' },
          { id: 'tank.lamp', register: 'relay_3' },
        ],
      }),
    ],
    outputs: [
      fanOutput({ when: { any: [{ alarm: 'L1', channels: ['tank.ch4'] }, { fault: true, channels: ['tank.ch4'] }] }, minOn: '500ms' }),
      { id: 'lamp', kind: 'relay', modbus: { device: 'relays', register: 'relay_3' }, minOn: '0s', minOff: '0s' },
    ],
  };
}

export async function startSimulatedTank(): Promise<RunningSimulator> {
  return startTcpSimulator({ devices: [simulatedGasProbe(profiles, { constant: 4 }), simulatedRelayBoard(profiles)] });
}

/** Settings for a data folder: outbox on, no broker, the socket at <dataDir>/vigil.sock unless `api` says otherwise. */
export function testSettings(dataDir: string, api: Record<string, unknown> = {}): Settings {
  return loadSettings({ env: {}, args: { dataDir, ...Object.fromEntries(Object.entries(api).map(([k, v]) => [`api.${k}`, v])) } });
}

export async function startApiTestSite(options: { api?: Record<string, unknown> } = {}): Promise<ApiTestSite> {
  const sim = await startSimulatedTank();
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-api-'));
  const settings = testSettings(dataDir, options.api);
  let agent: RunningAgent;
  try {
    agent = await startAgent({ site: siteSchema.parse(apiSite(sim)), profiles, logger: silentLogger(), dataDir, settings, version: '9.9.9' });
  } catch (error) {
    await sim.close();
    throw error;
  }
  return {
    sim,
    agent,
    dataDir,
    settings,
    socket: agent.api?.socketPath ?? join(dataDir, 'vigil.sock'),
    coil: (index) => sim.readCoil(10, index),
    async close() {
      await agent.stop();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request to the local API as any client would send it, on its Unix socket or its loopback TCP port. */
export function rawApiRequest(
  target: { socketPath: string } | { port: number },
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ ...('port' in target ? { host: '127.0.0.1', port: target.port } : target), method, path, headers });
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}
