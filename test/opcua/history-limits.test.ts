import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HistoryReadRequest,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  ReadRawModifiedDetails,
  SecurityPolicy,
  TimestampsToReturn,
  type ClientSession,
  type DataValue,
  type HistoryReadResult,
} from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/index.js';
import { site as siteSchema } from '../../config/schema/index.js';
import type { Reading } from '../../drivers/reading.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { HistoryStore, type HistoryCursor, type HistoryPoint } from '../../agent/history/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { shippedProfiles } from '../support/profiles.js';

// HistoryRead of a long range never loads a channel's whole history: the store reads page by page, holding at
// most one page (plus one), and OPC UA answers numValuesPerNode (or at most 10,000) values with a
// continuation point for the rest.

const HOUR = 3_600_000;

function reading(channelId: string, wallTs: number, value: number): Reading {
  return { channelId, deviceId: 'd', value, unit: 'ppm', quality: 'good', wallTs, monoTs: 0, clockSynced: true };
}

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('HistoryStore pages', () => {
  const T0 = Date.UTC(2026, 0, 1);
  const COUNT = 8000;
  let store: HistoryStore;

  beforeAll(async () => {
    // 1.5 MiB budget: segments of 96 KiB, so the channel's readings are spread over several segments.
    store = new HistoryStore({ dir: tempDir('vigil-history-pages-'), maxBytes: 1.5 * 1024 * 1024, maxAgeMs: 1000 * 24 * HOUR, flushIntervalMs: 60_000 });
    await store.ready;
    for (let i = 0; i < COUNT; i += 400) {
      const batch: Reading[] = [];
      for (let j = i; j < i + 400; j++) batch.push(reading('a', T0 + j * 1000, j), reading('b', T0 + j * 1000, -j));
      store.append(batch);
      await store.flush();
    }
    // A clock that jumped back: readings arriving last with times from the middle of the range.
    store.append([reading('a', T0 + 100_500, 100.5), reading('a', T0 + 4000_500, 4000.5)]);
    await store.flush();
    expect(store.stats().segments).toBeGreaterThanOrEqual(5);
    expect(store.stats().dropped).toBe(0);
  }, 60_000);

  afterAll(() => store.close());

  it('the first 10 oldest first read one segment and hold at most 11 readings', async () => {
    const page = await store.queryPage('a', { from: -Infinity, to: Infinity, limit: 10 });
    expect(page.points.map((p) => p.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(page.next).toBeDefined();
    expect(page.figures.segmentsRead).toBe(1);
    expect(page.figures.heldAtMost).toBeLessThanOrEqual(11);
  });

  it('the last 10 newest first read from the newest segments and hold at most 11', async () => {
    const page = await store.queryPage('a', { from: -Infinity, to: Infinity, limit: 10, newestFirst: true });
    expect(page.points.map((p) => p.value)).toEqual([7999, 7998, 7997, 7996, 7995, 7994, 7993, 7992, 7991, 7990]);
    // The newest segment holds the two late readings from the middle of the range; the one before it the end.
    expect(page.figures.segmentsRead).toBeLessThanOrEqual(2);
    expect(page.figures.heldAtMost).toBeLessThanOrEqual(11);
  });

  it('pages through a range, either way, each reading exactly once and in order, late arrivals included', async () => {
    const from = T0 + 50_000;
    const to = T0 + 5_000_000;
    const expected = [...Array.from({ length: 4951 }, (_, k) => 50 + k), 100.5, 4000.5].sort((x, y) => x - y);
    for (const newestFirst of [false, true]) {
      const seen: Array<number | null> = [];
      let after: HistoryCursor | undefined;
      let pages = 0;
      do {
        const page = await store.queryPage('a', { from, to, limit: 700, newestFirst, ...(after ? { after } : {}) });
        expect(page.figures.heldAtMost).toBeLessThanOrEqual(701);
        seen.push(...page.points.map((p: HistoryPoint) => p.value));
        after = page.next;
        pages += 1;
      } while (after);
      expect(seen).toEqual(newestFirst ? [...expected].reverse() : expected);
      expect(pages).toBe(Math.ceil(expected.length / 700));
    }
  });

  it('query(…, maxValues) keeps its meaning: oldest first, at most maxValues', async () => {
    const points = await store.query('a', T0 + 10_000, T0 + 20_000, 5);
    expect(points.map((p) => p.value)).toEqual([10, 11, 12, 13, 14]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe('OPC UA HistoryRead with numValuesPerNode and continuation points', () => {
  const profiles = shippedProfiles();
  const NODE = 'ns=1;s=channel/tank.ch4';
  const BASE = Date.now() - 10 * HOUR;
  const COUNT = 10_050;
  let sim: RunningSimulator;
  let agent: RunningAgent;
  let client: OPCUAClient;
  let session: ClientSession;

  beforeAll(async () => {
    const dataDir = tempDir('vigil-history-opcua-');
    sim = await startTcpSimulator({
      devices: [{ unit: 1, profile: profiles.get('gas-module-10reg')!, values: { unit_code: { constant: 0x2400 }, concentration: { constant: 5 } } }],
    });
    if (sim.endpoint.kind !== 'tcp') throw new Error('tcp expected');
    const port = await freePort();
    const settings = loadSettings({ env: {}, args: { dataDir, 'opcua.enabled': true, 'opcua.port': port, 'opcua.allowAnonymous': true, 'opcua.allowUnsecured': true } });
    const site = siteSchema.parse({
      site: { id: 'tank', name: 'Septic tank 1', kind: 'septic-tank' },
      buses: [{ id: 'b', tcp: { host: sim.endpoint.host, port: sim.endpoint.port }, timeoutMs: 200 }],
      devices: [{ id: 'probe', bus: 'b', unit: 1, profile: 'gas-module-10reg', interval: '1s', channels: [{ id: 'tank.ch4', register: 'concentration' }] }],
    });
    agent = await startAgent({ site, profiles, logger: silentLogger(), dataDir, settings });
    if (!(await agent.opcua!.ready)) throw new Error('OPC UA server did not start');
    // Ten hours ago, one reading a second: values 0 … COUNT-1, well before anything the probe itself adds.
    const history = agent.opcua!.history;
    for (let i = 0; i < COUNT; i += 1000) {
      history.append(Array.from({ length: Math.min(1000, COUNT - i) }, (_, k) => reading('tank.ch4', BASE + (i + k) * 1000, i + k)));
    }
    await history.flush();
    client = OPCUAClient.create({
      applicationName: 'vigil-test-client',
      securityMode: MessageSecurityMode.None,
      securityPolicy: SecurityPolicy.None,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 100 },
      clientCertificateManager: new OPCUACertificateManager({ rootFolder: tempDir('vigil-history-client-'), automaticallyAcceptUnknownCertificate: true }),
    });
    await client.connect(`opc.tcp://127.0.0.1:${port}`);
    session = await client.createSession();
  }, 120_000);

  afterAll(async () => {
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    await agent?.stop();
    await sim?.close();
  }, 60_000);

  async function readRaw(options: { start: Date | null; end: Date | null; numValuesPerNode: number; continuationPoint?: Buffer; release?: boolean }): Promise<HistoryReadResult> {
    const response = await session.historyRead(
      new HistoryReadRequest({
        historyReadDetails: new ReadRawModifiedDetails({
          isReadModified: false,
          returnBounds: false,
          numValuesPerNode: options.numValuesPerNode,
          ...(options.start ? { startTime: options.start } : {}),
          ...(options.end ? { endTime: options.end } : {}),
        }),
        nodesToRead: [{ nodeId: NODE, ...(options.continuationPoint ? { continuationPoint: options.continuationPoint } : {}) }],
        releaseContinuationPoints: options.release === true,
        timestampsToReturn: TimestampsToReturn.Source,
      }),
    );
    return response.results![0]!;
  }
  const valuesOf = (result: HistoryReadResult): unknown[] =>
    ((result.historyData as unknown as { dataValues: DataValue[] | null }).dataValues ?? []).map((v) => v.value.value);
  const start = () => new Date(BASE - 1000);
  const end = () => new Date(BASE + COUNT * 1000);

  it('numValuesPerNode=10 answers 10 oldest first, Good_MoreData, and the continuation point gives the next 10', async () => {
    const first = await readRaw({ start: start(), end: end(), numValuesPerNode: 10 });
    expect(first.statusCode.name).toBe('GoodMoreData');
    expect(valuesOf(first)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first.continuationPoint?.length).toBeGreaterThan(0);
    const second = await readRaw({ start: start(), end: end(), numValuesPerNode: 10, continuationPoint: first.continuationPoint! });
    expect(second.statusCode.name).toBe('GoodMoreData');
    expect(valuesOf(second)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // Used once: the same point again is invalid.
    const again = await readRaw({ start: start(), end: end(), numValuesPerNode: 10, continuationPoint: first.continuationPoint! });
    expect(again.statusCode.name).toBe('BadContinuationPointInvalid');
  }, 60_000);

  it('end before start reads newest first; a released continuation point is gone', async () => {
    const first = await readRaw({ start: end(), end: start(), numValuesPerNode: 10 });
    expect(first.statusCode.name).toBe('GoodMoreData');
    expect(valuesOf(first)).toEqual(Array.from({ length: 10 }, (_, k) => COUNT - 1 - k));
    const released = await readRaw({ start: end(), end: start(), numValuesPerNode: 10, continuationPoint: first.continuationPoint!, release: true });
    expect(released.statusCode.name).toBe('Good');
    expect(valuesOf(released)).toEqual([]);
    const after = await readRaw({ start: end(), end: start(), numValuesPerNode: 10, continuationPoint: first.continuationPoint! });
    expect(after.statusCode.name).toBe('BadContinuationPointInvalid');
  }, 60_000);

  it('end time and a count alone read backward from the end', async () => {
    const result = await readRaw({ start: null, end: new Date(BASE + 99_500), numValuesPerNode: 3 });
    expect(valuesOf(result)).toEqual([99, 98, 97]);
  }, 60_000);

  it('numValuesPerNode=0 (all) is capped at 10,000 values per call, the rest behind a continuation point', async () => {
    const first = await readRaw({ start: start(), end: end(), numValuesPerNode: 0 });
    expect(first.statusCode.name).toBe('GoodMoreData');
    const values = valuesOf(first);
    expect(values).toHaveLength(10_000);
    expect(values[0]).toBe(0);
    expect(values[9_999]).toBe(9_999);
    const rest = await readRaw({ start: start(), end: end(), numValuesPerNode: 0, continuationPoint: first.continuationPoint! });
    expect(rest.statusCode.name).toBe('Good');
    expect(valuesOf(rest)).toEqual(Array.from({ length: COUNT - 10_000 }, (_, k) => 10_000 + k));
    expect(rest.continuationPoint?.length ?? 0).toBe(0);
  }, 60_000);
});
