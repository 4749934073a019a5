import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const UNIT = fileURLToPath(new URL('../../systemd/vigil.service', import.meta.url));
const text = readFileSync(UNIT, 'utf8');
const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
if (!analyze) console.log('systemd-analyze is not installed here: the unit file is only checked for its settings');

/** Every value of a setting, in file order. */
function values(key: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

describe('systemd/vigil.service', () => {
  it.skipIf(!analyze)('passes systemd-analyze verify, which does catch a broken copy', () => {
    const verify = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr.trim()).toBe('');

    const dir = mkdtempSync(join(tmpdir(), 'vigil-unit-'));
    try {
      const broken = join(dir, 'vigil.service');
      writeFileSync(broken, text.replace('/usr/bin/node ', '/usr/bin/no-such-node '));
      const refused = spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8' });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/no-such-node/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a notify service with a watchdog, restarts with a limit, and keeps the hardening that lets Node and the ports work', () => {
    expect(values('Type')).toEqual(['notify']);
    expect(values('NotifyAccess')).toEqual(['all']); // systemd-notify sends from its own pid
    expect(values('WatchdogSec')).toEqual(['30s']);
    expect(values('Restart')).toEqual(['always']);
    expect(values('StartLimitBurst')).toHaveLength(1);
    expect(values('User')).toEqual(['vigil']);
    expect(values('SupplementaryGroups')).toEqual(['dialout gpio']);
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('StateDirectory')).toEqual(['vigil']);
    expect(values('ConfigurationDirectory')).toEqual(['vigil']);
    expect(values('DevicePolicy')).toEqual(['closed']);
    expect(values('DeviceAllow')).toEqual(expect.arrayContaining(['char-ttyUSB rw', 'char-ttyACM rw', 'char-gpiochip rw']));
    // These two break the agent: V8 needs writable+executable memory, and the ports must be visible.
    expect(values('MemoryDenyWriteExecute')).toEqual([]);
    expect(values('PrivateDevices')).toEqual([]);
    // The settings names the agent reads (config/settings.ts).
    expect(values('Environment').join(' ')).toMatch(/VIGIL_DATA_DIR=\/var\/lib\/vigil/);
    expect(values('Environment').join(' ')).toMatch(/VIGIL_SITE=\/etc\/vigil\/site\.yaml/);
  });
});
