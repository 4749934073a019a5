import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBroker, type TestBroker } from '../support/broker.js';
import { runCli } from '../support/cli.js';
import { checkNode } from '../../agent/service/doctor/checks.js';
import type { CheckResult, DoctorReport } from '../../agent/service/index.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';

// `vigil doctor` as a technician runs it: the compiled CLI against real files, a real broker (and a port
// where nothing listens), and a serial port that is a socat pseudo-terminal.

type Check = CheckResult;
type Report = DoctorReport;

let work = '';
let broker: TestBroker;
let pty: PtyPair;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'vigil-doctor-'));
  mkdirSync(join(work, 'data'));
  broker = await startBroker();
  pty = await startPtyPair();
});
afterAll(async () => {
  await pty?.stop();
  await broker?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function site(bus: object): string {
  const file = join(work, `site-${Math.random().toString(36).slice(2)}.yaml`);
  const text = {
    site: { id: 'doc', name: 'doctor test' },
    buses: [{ id: 'line1', ...bus }],
    devices: [{ id: 'probe', bus: 'line1', unit: 1, profile: 'gas-module-10reg', channels: [{ id: 'tank.ch4', register: 'concentration', range: { min: 0, max: 100 } }] }],
  };
  writeFileSync(file, JSON.stringify(text, null, 2));
  return file;
}

async function doctor(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; report: Report; stderr: string }> {
  const result = await runCli(['doctor', '--json', '--timeout', '3', ...args], {
    env: { VIGIL_DATA_DIR: join(work, 'data'), VIGIL_MQTT_URL: broker.url, VIGIL_MQTT_PROTOCOL: broker.protocolVersion === 4 ? '3.1.1' : '5', ...env },
    timeoutMs: 30_000,
  });
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

const check = (report: Report, id: string): Check => {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
};

describe('vigil doctor', () => {
  it('a sound gateway: valid config, writable data folder, reachable broker, serial port present; JSON shape; exit 0', async () => {
    const { code, report } = await doctor(['--config', site({ serial: { path: pty.a, baud: 9600 } })]);
    expect(report.checks.map((c) => c.id)).toEqual(['node', 'settings', 'config', 'serial', 'gpio', 'clock', 'disk', 'data-dir', 'broker', 'service']);
    for (const c of report.checks) {
      expect(['ok', 'warn', 'fail', 'skip']).toContain(c.status);
      expect(typeof c.title).toBe('string');
      expect(c.detail.length).toBeGreaterThan(0);
      if (c.status === 'warn' || c.status === 'fail') expect(c.hint, c.id).toBeTruthy();
    }
    expect(check(report, 'config').status).toBe('ok');
    expect(check(report, 'serial')).toMatchObject({ status: 'ok' });
    expect(check(report, 'serial').detail).toContain(pty.a);
    expect(check(report, 'data-dir').status).toBe('ok');
    expect(check(report, 'broker')).toMatchObject({ status: 'ok' });
    expect(check(report, 'broker').detail).toMatch(/MQTT connection accepted/);
    expect(report.counts.fail).toBe(0);
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
  });

  it('a broken site file: config fails with the place of the error and the command that shows them all', async () => {
    const file = join(work, 'broken.yaml');
    writeFileSync(file, 'site: { id: doc, name: x }\nbuses:\n  - id: line1\n    tcp: { host: 127.0.0.1, port: 1502 }\ndevices:\n  - { id: p, bus: line2, unit: 1, profile: gas-module-10reg, channels: [] }\n');
    const { code, report } = await doctor(['--config', file]);
    const config = check(report, 'config');
    expect(config.status).toBe('fail');
    expect(config.detail).toMatch(/broken\.yaml:\d+:\d+/);
    expect(config.hint).toBe(`vigil check ${file} shows every error with line:column and a hint`);
    expect(report.ok).toBe(false);
    expect(code).toBe(1);
  });

  it('a broker port where nothing listens: broker fails with the reason and a fix', async () => {
    const port = await freePort();
    const { code, report } = await doctor(['--config', site({ tcp: { host: '127.0.0.1', port: 1502 } })], { VIGIL_MQTT_URL: `mqtt://127.0.0.1:${port}` });
    const result = check(report, 'broker');
    expect(result.status).toBe('fail');
    expect(result.detail).toBe(`127.0.0.1:${port}: connection refused (nothing listens there)`);
    expect(result.hint).toMatch(/VIGIL_MQTT_URL/);
    expect(code).toBe(1);
  });

  it('an adapter that is not plugged in, and wrong settings: both fail, each with its fix', async () => {
    const missing = join(work, 'ttyUSB-not-plugged');
    const { report } = await doctor(['--config', site({ serial: { path: missing, baud: 9600 } })], { VIGIL_LOG_LEVEL: 'loud' });
    expect(check(report, 'serial')).toMatchObject({ status: 'fail' });
    expect(check(report, 'serial').detail).toContain(`${missing} does not exist`);
    expect(check(report, 'serial').hint).toMatch(/plug/);
    expect(check(report, 'settings').status).toBe('fail');
    expect(check(report, 'settings').detail).toMatch(/logLevel \(VIGIL_LOG_LEVEL\)/);
  });

  it('no broker configured: a warning, not a failure', async () => {
    const { report } = await doctor(['--config', site({ tcp: { host: '127.0.0.1', port: 1502 } })], { VIGIL_MQTT_URL: '' });
    expect(check(report, 'broker')).toMatchObject({ status: 'warn' });
    expect(check(report, 'broker').hint).toMatch(/VIGIL_MQTT_URL=/);
  });

  it("reads the service's settings file as the service does; exported variables override it", async () => {
    const envFile = join(work, 'vigil.env');
    writeFileSync(envFile, `# settings\nVIGIL_MQTT_URL="${broker.url}"\nVIGIL_MQTT_PROTOCOL=${broker.protocolVersion === 4 ? '3.1.1' : '5'}\n`);
    const config = site({ tcp: { host: '127.0.0.1', port: 1502 } });
    const fromFile = await runCli(['doctor', '--json', '--timeout', '3', '--config', config, '--service-env', envFile], { env: { VIGIL_DATA_DIR: join(work, 'data') } });
    const report = JSON.parse(fromFile.stdout) as Report;
    expect(check(report, 'broker').status).toBe('ok');
    expect(check(report, 'settings').detail).toContain(envFile);
    const port = await freePort();
    const overridden = await doctor(['--config', config, '--service-env', envFile], { VIGIL_MQTT_URL: `mqtt://127.0.0.1:${port}` });
    expect(check(overridden.report, 'broker').detail).toContain(`127.0.0.1:${port}`);
    const missing = await doctor(['--config', config, '--service-env', join(work, 'no-such.env')]);
    expect(check(missing.report, 'settings')).toMatchObject({ status: 'warn' });
  });

  it('readable output on a terminal, --help, and a bad option value (exit 2)', async () => {
    const text = await runCli(['doctor', '--timeout', '3', '--config', site({ tcp: { host: '127.0.0.1', port: 1502 } })], {
      env: { VIGIL_DATA_DIR: join(work, 'data'), VIGIL_MQTT_URL: '' },
    });
    expect(text.stdout).toMatch(/^✓ Site config +.*valid/m);
    expect(text.stdout).toMatch(/^! Broker +no broker configured/m);
    expect(text.stdout).toMatch(/^ +fix: set VIGIL_MQTT_URL/m);
    expect(text.stdout).toMatch(/\d+ ok, \d+ warning\(s\), \d+ failed/);
    const help = await runCli(['doctor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--json/);
    const bad = await runCli(['doctor', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout must be seconds/);
  });
});

describe('vigil doctor: the Node.js check', () => {
  it('fails below 20, warns on 20 (and says why below 20.15), passes from 22', () => {
    expect(checkNode('18.20.4').status).toBe('fail');
    expect(checkNode('20.11.1')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/native CRC-32/) as unknown });
    expect(checkNode('20.19.0')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/end of life/) as unknown });
    expect(checkNode('22.12.0').status).toBe('ok');
  });
});
