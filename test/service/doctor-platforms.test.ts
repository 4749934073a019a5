import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBroker, type TestBroker } from '../support/broker.js';
import { runCli } from '../support/cli.js';
import type { CheckResult } from '../../agent/service/index.js';

// `vigil doctor` on a site whose data goes to the platforms listed in its site file, not to VIGIL_MQTT_URL:
// one line per platform, each against its own broker with its own credential files.

type Check = CheckResult;

const USER = { username: 'gw-7', password: 's3cret' };
let work = '';
let broker: TestBroker;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'vigil-doctor-platforms-'));
  mkdirSync(join(work, 'data'));
  broker = await startBroker({ auth: USER });
});
afterAll(async () => {
  await broker?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function secret(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  return file;
}

async function doctorOn(platforms: object[]): Promise<Check[]> {
  const file = join(work, `site-${Math.random().toString(36).slice(2)}.json`);
  const site = {
    site: { id: 'rock', name: 'dangerous rock' },
    buses: [{ id: 'line1', tcp: { host: '127.0.0.1', port: 1 } }],
    devices: [{ id: 'gauge', bus: 'line1', unit: 1, profile: 'crack-drawwire-u16', channels: [{ id: 'crack1', register: 'displacement' }] }],
    platforms,
  };
  writeFileSync(file, JSON.stringify(site, null, 2));
  // No VIGIL_MQTT_URL at all: before, this read "no broker configured".
  const result = await runCli(['doctor', '--json', '--timeout', '3', '--config', file], { env: { VIGIL_DATA_DIR: join(work, 'data') }, timeoutMs: 30_000 });
  return (JSON.parse(result.stdout) as { checks: Check[] }).checks;
}

describe('vigil doctor with platforms in the site file', () => {
  it('checks each platform: a login with its own files where it is user/password, reachability where the login is derived', async () => {
    const protocol = broker.protocolVersion === 4 ? '3.1.1' : '5';
    const refused = await freePort();
    const checks = await doctorOn([
      { id: 'city', profile: 'native', broker: { url: broker.url, protocol, usernameFile: secret('city-user', USER.username), passwordFile: secret('city-pass', USER.password) } },
      { id: 'province', profile: 'geohazard', broker: { url: `mqtt://127.0.0.1:${refused}`, protocol, passwordFile: secret('geo-key', 'k3y') }, geohazard: { deviceId: 'GH1', channels: { crack1: 'L1_LF_1' } } },
      { id: 'wrong', profile: 'thingsboard', broker: { url: broker.url, protocol, usernameFile: secret('tb-user', USER.username), passwordFile: secret('tb-pass', 'not-it') } },
      { id: 'geo-up', profile: 'geohazard', broker: { url: broker.url, protocol, passwordFile: secret('geo-key-2', 'k3y') }, geohazard: { deviceId: 'GH2', channels: { crack1: 'L1_LF_1' } } },
    ]);
    expect(checks.map((c) => c.id)).not.toContain('broker');
    const byId = new Map(checks.map((c) => [c.id, c]));
    expect([...byId.keys()].filter((id) => id.startsWith('broker:'))).toEqual(['broker:city', 'broker:province', 'broker:wrong', 'broker:geo-up']);

    const city = byId.get('broker:city')!;
    expect(city.status).toBe('ok');
    expect(city.detail).toContain('MQTT connection accepted');
    expect(city.detail).toContain(`as ${USER.username}`);
    expect(city.title).toContain('city');

    const province = byId.get('broker:province')!;
    expect(province.status).toBe('fail');
    expect(province.detail).toContain(`127.0.0.1:${refused}: connection refused`);
    expect(province.detail).toContain('reachability');
    expect(province.hint).toContain('province');

    // Its own credentials, not the other platform's: the wrong password is refused by the same broker.
    const wrong = byId.get('broker:wrong')!;
    expect(wrong.status).toBe('fail');
    expect(wrong.detail).toContain('refused the credentials');
    expect(wrong.hint).toContain('platforms[2] (wrong)');

    const geoUp = byId.get('broker:geo-up')!;
    expect(geoUp.status).toBe('ok');
    expect(geoUp.detail).toContain('TCP connection accepted');
    expect(geoUp.detail).toContain('the login is not tried');
  }, 60_000);
});
