import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../agent/api/index.js';
import { CLI, runCli } from '../support/cli.js';
import { startApiTestSite, type ApiTestSite } from '../support/api-agent.js';
import { until as waitUntil } from '../support/until.js';

// The commands as an operator runs them: child processes of the built CLI against a real agent's socket.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = (condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> => waitUntil(condition, timeoutMs, what);

async function tank(): Promise<ApiTestSite> {
  const site = await startApiTestSite();
  cleanups.push(() => site.close());
  await until(() => site.agent.latest.get('tank.ch4')?.value === 4, 'first reading');
  return site;
}

interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

/** A long-running command (events --follow, relay test), to be signalled by the test. */
function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, out: () => stdout, err: () => stderr, exited };
}

describe('vigil status / events / buffer / relay against a running agent', () => {
  it('status: a readable table, and the snapshot as JSON; the socket defaults from the settings', async () => {
    const site = await tank();
    const text = await runCli(['status', '--socket', site.socket]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/tank\.ch4\s+4\.000 %LEL .*ok\s+good/);
    expect(text.stdout).toMatch(/output fan\s+/);
    expect(text.stdout).toMatch(/bus b: connected, \d+ transactions/);
    expect(text.stdout).toMatch(/uplink: disabled/);
    expect(text.stdout).toMatch(/buffer: \d+ record\(s\) waiting/);

    const json = await runCli(['status', '--json'], { env: { VIGIL_DATA_DIR: site.dataDir } });
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as StatusSnapshot;
    expect(status.version).toBe(1);
    expect(status.channels.find((c) => c.id === 'tank.ch4')).toMatchObject({ value: 4, quality: 'good' });
  });

  it('says clearly when no agent answers, and refuses bad arguments with exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-none-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const none = await runCli(['status', '--socket', join(dir, 'vigil.sock')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no agent answers on ${join(dir, 'vigil.sock')}: is the service running? systemctl status vigil`);
    const fromSettings = await runCli(['buffer'], { env: { VIGIL_DATA_DIR: dir } });
    expect(fromSettings.code).toBe(1);
    expect(fromSettings.stderr).toContain(`no agent answers on ${join(dir, 'vigil.sock')}`);

    for (const args of [['relay', 'test', 'fan', '--for', '5'], ['relay', 'fan'], ['buffer', 'export', '--from', 'yesterday'], ['events', '--limit', 'x'], ['status', 'extra']]) {
      const result = await runCli([...args, '--socket', join(dir, 'vigil.sock')]);
      expect({ args, code: result.code, stderr: result.stderr.split('\n')[0] }).toMatchObject({ args, code: 2 });
      expect(result.stderr).toMatch(/Usage: vigil/);
    }
    for (const name of ['status', 'events', 'buffer', 'relay']) {
      const help = await runCli([name, '--help']);
      expect({ name, code: help.code, stderr: help.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(help.stdout).toMatch(/--socket PATH/);
      expect(help.stdout).toMatch(/--json/);
    }
  });

  it('events --follow streams the alarm a gas rise raises, until Ctrl-C', async () => {
    const site = await tank();
    const follow = startCli(['events', '--follow', '--json', '--limit', '0', '--socket', site.socket]);
    // The command says on stderr when its stream is open; then the gas rises.
    await until(() => follow.err().includes('following the events'), 'the stream open');
    site.sim.setValue(1, 'concentration', { constant: 30 });
    await until(() => follow.out().includes('"alarm-raised"'), `alarm-raised printed (stdout ${follow.out()}, stderr ${follow.err()})`);
    const raised = follow
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; channelId?: string; level?: string })
      .find((e) => e.type === 'alarm-raised');
    expect(raised).toMatchObject({ channelId: 'tank.ch4', level: 'L1' });
    follow.child.kill('SIGINT');
    expect(await follow.exited).toBe(0);
  });

  it('buffer shows depth and oldest age; buffer export writes the records of a time range as CSV', async () => {
    const site = await tank();
    const outbox = site.agent.uplink!.outbox;
    site.sim.setValue(1, 'concentration', { constant: 30 });
    await until(() => outbox.stats().records >= 20, 'records buffered');

    const text = await runCli(['buffer', '--socket', site.socket]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/buffer: \d+ record\(s\) waiting \(\d+ KiB\), oldest [\d.]+[smhd] old, dropped 0/);
    const json = await runCli(['buffer', '--json', '--socket', site.socket]);
    expect((JSON.parse(json.stdout) as { depth: number }).depth).toBeGreaterThanOrEqual(20);

    const all = await outbox.read(0, 100_000, 64 * 1024 * 1024);
    const times = all.map((r) => r.correctedWallTs ?? r.wallTs);
    const from = times[Math.floor(times.length / 3)]!;
    const to = times[Math.floor((2 * times.length) / 3)]!;
    const expected = all.filter((_, i) => times[i]! >= from && times[i]! < to).map((r) => r.seq);
    expect(expected.length).toBeGreaterThan(0);
    const file = join(site.dataDir, 'export.csv');
    const exported = await runCli(['buffer', 'export', '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString(), '-o', file, '--socket', site.socket]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/wrote .*export\.csv/);
    const rows = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(rows[0]).toMatch(/^seq,stream,time,clock,channel/);
    expect(rows.slice(1).map((row) => Number(row.split(',')[0]))).toEqual(expected);
  });

  it('relay test: the output goes on; killed with SIGKILL, the agent still switches it back at the expiry', async () => {
    const site = await tank();
    expect(site.coil(2)).toBe(false);
    const test = startCli(['relay', 'test', 'lamp', '--for', '3s', '--socket', site.socket]);
    await until(() => site.coil(2), 'lamp coil energised on the relay board');
    await until(() => test.out().includes('lamp forced on for 3s'), 'the force announced');
    await until(() => /lamp ON, write confirmed/.test(test.out()), 'countdown with the confirmation printed');
    test.child.kill('SIGKILL');
    await test.exited;
    expect(site.agent.outputs.status('lamp')?.override?.state).toBe('on');
    // Nobody is left to switch it back but the agent.
    await until(() => !site.coil(2), 'lamp coil released by the agent at the expiry');
    expect(site.agent.outputs.status('lamp')).toMatchObject({ commanded: false });
    expect(site.agent.outputs.status('lamp')?.override).toBeUndefined();
    const expired = site.agent.events.recent(50).find((e) => e.type === 'override-expired' && e.outputId === 'lamp');
    expect(expired?.cause).toMatch(/expired/);
    const status = JSON.parse((await runCli(['status', '--json', '--socket', site.socket])).stdout) as StatusSnapshot;
    expect(status.outputs.find((o) => o.id === 'lamp')).toMatchObject({ state: 'off', override: null });
  });

  it('relay test: runs to its expiry and says so; Ctrl-C releases at once', async () => {
    const site = await tank();
    const short = await runCli(['relay', 'test', 'lamp', '--for', '1500ms', '--socket', site.socket]);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/expired: lamp is back under its rule: lamp OFF/);
    expect(site.agent.events.recent(50).map((e) => e.type)).toContain('override-expired');

    await until(() => !site.coil(2), 'lamp coil released after the first test');

    const long = startCli(['relay', 'test', 'lamp', '--for', '10m', '--socket', site.socket]);
    await until(() => long.out().includes('lamp forced on for 10m'), 'the force announced');
    await until(() => site.coil(2), 'lamp on');
    long.child.kill('SIGINT');
    expect(await long.exited).toBe(0);
    expect(long.out()).toMatch(/interrupted: released lamp at once/);
    await until(() => !site.coil(2), 'lamp off after the release');
    const cleared = site.agent.events.recent(50).find((e) => e.type === 'override-cleared' && e.outputId === 'lamp');
    expect(cleared?.by).toMatch(/^local:/);

    const refused = await runCli(['relay', 'test', 'nope', '--socket', site.socket]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no output "nope"/);
  });
});
