import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { site as siteSchema } from '../../config/schema/index.js';
import { ApiClient, ApiSocketInUseError, CSV_COLUMNS, socketAnswers, type StatusSnapshot } from '../../agent/api/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startAgent } from '../../agent/main/index.js';
import type { SafetyEvent } from '../../agent/safety/index.js';
import { renderStatus } from '../../agent/cli/status-text.js';
import { apiSite, profiles, rawApiRequest, startApiTestSite, startSimulatedTank, testSettings, type ApiTestSite } from '../support/api-agent.js';
import { until as waitUntil } from '../support/until.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = (condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> => waitUntil(condition, timeoutMs, what);

async function tank(options: Parameters<typeof startApiTestSite>[0] = {}): Promise<ApiTestSite> {
  const site = await startApiTestSite(options);
  cleanups.push(() => site.close());
  return site;
}



/** Waits for the status to satisfy `check`, asking the API each time. */
async function statusUntil(client: ApiClient, check: (s: StatusSnapshot) => boolean, what: string): Promise<StatusSnapshot> {
  let last: StatusSnapshot | undefined;
  const deadline = Date.now() + 15_000;
  for (;;) {
    last = await client.status();
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not met; last status ${JSON.stringify(last).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('local API over the Unix socket of a running agent', () => {
  it('serves the status: channels with values and quality, alarms, outputs with their cause, bus counters, uplink, buffer, clock', async () => {
    const site = await tank();
    const client = new ApiClient(site.socket);
    const status = await statusUntil(
      client,
      (s) => s.channels.find((c) => c.id === 'tank.ch4')?.value === 4 && s.outputs.find((o) => o.id === 'fan')?.state === 'off',
      'probe read and fan settled',
    );
    expect(status.version).toBe(1);
    expect(status.site).toEqual({ id: 'tank', name: 'Test tank', kind: 'septic-tank' });
    expect(status.agent.version).toBe('9.9.9');
    // The process's own figures (this test runs the agent in the test process, so they are the test's: real, not zero).
    const memory = status.agent.memory!;
    expect(memory.rssBytes).toBeGreaterThan(memory.heapUsedBytes);
    expect(memory.heapUsedBytes).toBeGreaterThan(0);
    expect(memory.heapUsedBytes).toBeLessThanOrEqual(memory.heapTotalBytes);
    const ch4 = status.channels.find((c) => c.id === 'tank.ch4')!;
    expect(ch4).toMatchObject({ deviceId: 'probe', value: 4, unit: '%LEL', quality: 'good', reason: null });
    expect(ch4.alarm).toMatchObject({ state: 'ok', level: 'normal', fault: false, latched: false });
    expect(status.channels.map((c) => c.id)).toEqual(['tank.ch4', 'tank.fan', 'tank.lamp']);
    const fan = status.outputs.find((o) => o.id === 'fan')!;
    expect(fan.kind).toBe('fan');
    expect(fan.cause).toMatch(/all clear|rule/);
    expect(fan.readback?.channel).toBe('tank.fan');
    expect(status.buses).toHaveLength(1);
    expect(status.buses[0]).toMatchObject({ id: 'b', connected: true });
    expect(status.buses[0]!.transactions).toBeGreaterThan(0);
    expect(status.buses[0]!.devices.find((d) => d.id === 'probe')!.ok).toBeGreaterThan(0);
    expect(status.uplink).toMatchObject({ state: 'disabled' });
    expect(status.buffer!.depth).toBeGreaterThan(0);
    expect(typeof status.clock.synced).toBe('boolean');
    expect(Math.abs(status.clock.wallTs - Date.now())).toBeLessThan(60_000);
    expect(status.safety.alive).toBe(true);

    // The alarm, and the fan with the rule that started it, as the gas rises.
    site.sim.setValue(1, 'concentration', { constant: 30 });
    const alarmed = await statusUntil(
      client,
      (s) => s.channels.find((c) => c.id === 'tank.ch4')?.alarm?.state === 'L1' && s.outputs.find((o) => o.id === 'fan')?.state === 'on',
      'L1 and fan on',
    );
    expect(alarmed.outputs.find((o) => o.id === 'fan')!.cause).toMatch(/tank\.ch4/);
    expect(alarmed.recentEvents.map((e) => e.type)).toContain('alarm-raised');
    // The dashboard renders this same snapshot.
    const text = renderStatus(alarmed, { color: false });
    expect(text).toMatch(/tank\.ch4\s+30\.00 %LEL .* L1/);
    expect(text).toMatch(/output fan\s+ON\s+.*tank\.ch4/);
  });

  it('the socket is mode 0660, and goes away when the agent stops', async () => {
    const site = await tank();
    expect(lstatSync(site.socket).isSocket()).toBe(true);
    expect(statSync(site.socket).mode & 0o777).toBe(0o660);
    await site.agent.stop();
    expect(existsSync(site.socket)).toBe(false);
  });

  it('streams events as they happen: a gas rise on the simulated probe arrives as alarm-raised', async () => {
    const site = await tank();
    const client = new ApiClient(site.socket);
    await statusUntil(client, (s) => s.channels.find((c) => c.id === 'tank.ch4')?.value === 4, 'first reading');
    // The fan may have started fail-safe before the first reading and be held by its minimum on-time: wait until
    // it is off, so the gas rise below is what switches it on.
    await statusUntil(client, (s) => s.outputs.find((o) => o.id === 'fan')?.state === 'off', 'fan off after start-up');
    const seen: SafetyEvent[] = [];
    const stop = new AbortController();
    const following = client.followEvents((event) => seen.push(event), { signal: stop.signal });
    // Let the stream open before the gas rises (the live part, not the recent list, must carry it).
    await new Promise((resolve) => setTimeout(resolve, 300));
    site.sim.setValue(1, 'concentration', { constant: 30 });
    await until(() => seen.some((e) => e.type === 'alarm-raised' && e.channelId === 'tank.ch4'), 'alarm-raised streamed');
    const raised = seen.find((e) => e.type === 'alarm-raised')!;
    expect(raised).toMatchObject({ channelId: 'tank.ch4', level: 'L1', value: 30 });
    await until(() => seen.some((e) => e.type === 'output-on' && e.outputId === 'fan'), 'fan on streamed');
    stop.abort();
    expect(await following).toBe('stopped');

    // Without follow: the recent ones as one JSON document.
    const recent = await client.recentEvents(100);
    expect(recent.events.map((e) => e.type)).toEqual(expect.arrayContaining(['alarm-raised', 'output-on']));
  });

  it('buffer: depth, oldest age, drops; the CSV export holds exactly the waiting records of the time range', async () => {
    const site = await tank();
    const client = new ApiClient(site.socket);
    const outbox = site.agent.uplink!.outbox;
    site.sim.setValue(1, 'concentration', { constant: 30 });
    await until(() => outbox.stats().records >= 30, 'some records buffered');
    const buffer = await client.buffer();
    expect(buffer.depth).toBeGreaterThanOrEqual(30);
    expect(buffer.oldestAgeMs).toBeGreaterThanOrEqual(0);
    expect(buffer.oldestWallTs).toBeLessThanOrEqual(Date.now());
    expect(buffer.dropped).toEqual({ telemetry: 0, event: 0 });

    // A range in the past, between records: records appended from now on are later and cannot enter it.
    const all = await outbox.read(0, 100_000, 64 * 1024 * 1024);
    const times = all.map((r) => r.correctedWallTs ?? r.wallTs);
    const from = times[Math.floor(times.length / 4)]!;
    const to = times[Math.floor((3 * times.length) / 4)]!;
    expect(to).toBeGreaterThan(from);
    const expected = all.filter((_, i) => times[i]! >= from && times[i]! < to);
    expect(expected.length).toBeGreaterThan(0);

    const sink: Buffer[] = [];
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => sink.push(chunk));
    await client.exportCsv({ from: new Date(from).toISOString(), to: String(to) }, out);
    const [header, ...rows] = Buffer.concat(sink).toString('utf8').trimEnd().split('\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    expect(rows.map((row) => Number(row.split(',')[0]))).toEqual(expected.map((r) => r.seq));
    const streams = new Set(rows.map((row) => row.split(',')[1]));
    expect([...streams].every((s) => s === 'telemetry' || s === 'event')).toBe(true);
    const telemetry = rows.find((row) => row.includes(',tank.ch4,probe,'));
    expect(telemetry).toBeDefined();
    expect(telemetry).toMatch(/,%LEL,good,/);
    // Exporting takes nothing out of the outbox.
    expect(outbox.stats().records).toBeGreaterThanOrEqual(all.length);
  });

  it('answers bad requests with a 4xx and a JSON error, and keeps running', async () => {
    const site = await tank();
    const target = { socketPath: site.socket };
    const cases: Array<[string, string, string | undefined, number, RegExp]> = [
      ['GET', '/v1/nothing', undefined, 404, /no endpoint \/v1\/nothing/],
      ['DELETE', '/v1/status', undefined, 405, /takes GET/],
      ['GET', '/v1/commands', undefined, 405, /takes POST/],
      ['GET', '/v1/status?bogus=1', undefined, 400, /unknown parameter bogus/],
      ['GET', '/v1/events?limit=lots', undefined, 400, /limit: expected a whole number/],
      ['GET', '/v1/events?follow=maybe', undefined, 400, /follow: expected 1 or 0/],
      ['GET', '/v1/buffer/export?from=yesterday', undefined, 400, /from: expected an ISO 8601 time/],
      ['GET', '/v1/buffer/export?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', undefined, 400, /to must be after from/],
      ['POST', '/v1/commands', '{not json', 400, /the body is not JSON/],
      ['POST', '/v1/commands', JSON.stringify({ action: 'explode' }), 422, /action/],
      ['POST', '/v1/commands', JSON.stringify({ action: 'force', output: 'fan', state: 'on' }), 422, /for/],
      ['POST', '/v1/commands', JSON.stringify({ action: 'force', output: 'nope', state: 'on', for: '5s' }), 422, /no output "nope"/],
      ['POST', '/v1/commands', JSON.stringify({ action: 'release', output: 'lamp' }), 422, /lamp is not forced/],
      ['POST', '/v1/commands', 'x'.repeat(100_000), 413, /larger than/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const answer = await rawApiRequest(target, method, path, body);
      expect({ method, path, status: answer.status }).toEqual({ method, path, status });
      expect(answer.headers['content-type']).toMatch(/application\/json/);
      const parsed = JSON.parse(answer.body) as { ok: boolean; error: string };
      expect(parsed.ok).toBe(false);
      expect(parsed.error).toMatch(message);
    }
    // Not HTTP at all.
    await new Promise<void>((resolve) => {
      const socket = connect({ path: site.socket }, () => socket.end('\x00\x01garbage\r\n\r\n'));
      socket.on('data', () => {});
      socket.once('close', () => resolve());
    });
    // Nothing of that changed anything: the lamp was never forced, and the agent still answers and polls.
    const after = await statusUntil(new ApiClient(site.socket), (s) => s.safety.alive, 'safety loop alive');
    expect(after.outputs.find((o) => o.id === 'lamp')!.override).toBeNull();
    const answers = site.agent.buses.get('b')!.counters().transactions;
    await until(() => site.agent.buses.get('b')!.counters().transactions > answers, 'still polling');
  });

  it('an operator command through the API is carried out by the command handler and recorded with who asked', async () => {
    const site = await tank();
    const result = await rawApiRequest(
      { socketPath: site.socket },
      'POST',
      '/v1/commands',
      JSON.stringify({ action: 'force', output: 'lamp', state: 'on', for: '30s' }),
      { 'x-vigil-by': 'alice', 'content-type': 'application/json' },
    );
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ ok: true, action: 'force' });
    await until(() => site.coil(2), 'lamp coil on');
    const status = await new ApiClient(site.socket).status();
    expect(status.outputs.find((o) => o.id === 'lamp')!.override).toMatchObject({ state: 'on', by: 'local:alice' });
    expect(site.agent.events.recent(20).find((e) => e.type === 'override-set')?.by).toBe('local:alice');
  });

  it('a second agent on the same socket refuses to start while the first answers; a stale socket from a crash is replaced', async () => {
    const site = await tank();
    const settings = testSettings(site.dataDir);
    const secondDir = mkdtempSync(join(tmpdir(), 'vigil-api-second-'));
    cleanups.push(() => rmSync(secondDir, { recursive: true, force: true }));
    await expect(
      startAgent({ site: siteSchema.parse(apiSite(site.sim)), profiles, logger: silentLogger(), dataDir: secondDir, settings: { ...settings, api: { socket: site.socket, tcpPort: null } } }),
    ).rejects.toBeInstanceOf(ApiSocketInUseError);
    // The first one is untouched.
    expect((await new ApiClient(site.socket).status()).site.id).toBe('tank');

    // A process that listened on a socket and was killed with SIGKILL leaves the file behind.
    const stale = join(secondDir, 'stale.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(lstatSync(stale).isSocket()).toBe(true);
    expect(await socketAnswers(stale)).toBe(false);
    const second = await startAgent({
      site: siteSchema.parse(apiSite(site.sim)),
      profiles,
      logger: silentLogger(),
      dataDir: secondDir,
      settings: { ...testSettings(secondDir), api: { socket: stale, tcpPort: null } },
    });
    cleanups.push(() => second.stop());
    expect(second.api?.socketPath).toBe(stale);
    expect((await new ApiClient(stale).status()).site.id).toBe('tank');
  });

  it('a path that is not a socket is never deleted: the agent runs without the API and says why', async () => {
    const sim = await startSimulatedTank();
    cleanups.push(() => sim.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-api-file-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const file = join(dataDir, 'precious.txt');
    writeFileSync(file, 'keep me');
    const agent = await startAgent({
      site: siteSchema.parse(apiSite(sim)),
      profiles,
      logger: silentLogger(),
      dataDir,
      settings: { ...testSettings(dataDir), api: { socket: file, tcpPort: null } },
    });
    cleanups.push(() => agent.stop());
    expect(agent.api).toBeUndefined();
    expect(lstatSync(file).isFile()).toBe(true);
    await until(() => agent.latest.get('tank.ch4')?.value === 4, 'still polls');
  });

  it('also serves loopback TCP when configured', async () => {
    const free = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const site = await tank({ api: { tcpPort: free } });
    expect(site.agent.api?.tcpPort).toBe(free);
    const answer = await rawApiRequest({ port: free }, 'GET', '/v1/status');
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.body) as StatusSnapshot).site.id).toBe('tank');
    // Read-only: commands are for the socket (test/api/tcp-read-only.test.ts).
    const command = await rawApiRequest({ port: free }, 'POST', '/v1/commands', JSON.stringify({ action: 'force', output: 'lamp', state: 'on', for: '20s' }));
    expect(command.status).toBe(403);
  });
});
