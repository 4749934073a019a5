import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// systemd/install.sh into a throwaway root (--root): the real script, real files, the real systemd-sysusers
// and systemctl --root where present. Nothing on this machine outside the temporary folder is touched.

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(REPO, 'systemd/install.sh');
const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const canInstall = has('systemd-sysusers') && existsSync(join(REPO, 'dist/agent/cli/main.js'));
if (!canInstall) console.log('install test skipped: needs systemd-sysusers and a built checkout (npm run build)');

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'vigil-root-'));
  // The target system's account databases and release, as on a fresh Raspberry Pi OS image (dialout exists).
  mkdirSync(join(root, 'etc'));
  for (const file of ['passwd', 'group', 'os-release']) if (existsSync(`/etc/${file}`)) copyFileSync(`/etc/${file}`, join(root, 'etc', file));
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function install(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('sh', [SCRIPT, '--root', root, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** Every path under the root with its type, mode, owner and content digest: two equal snapshots = the same tree. */
function snapshot(): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const id = `${stat.mode.toString(8)} ${stat.uid}:${stat.gid}`;
      if (stat.isDirectory()) {
        entries.set(relative(root, path) + '/', id);
        walk(path);
      } else if (stat.isSymbolicLink()) {
        entries.set(relative(root, path), `${id} -> ${readlinkSync(path)}`);
      } else {
        entries.set(relative(root, path), `${id} ${createHash('sha1').update(readFileSync(path)).digest('hex')}`);
      }
    }
  };
  walk(root);
  return entries;
}

const lines = (file: string, pattern: RegExp): string[] => readFileSync(join(root, file), 'utf8').split('\n').filter((l) => pattern.test(l));

describe('install.sh', () => {
  it('--help and a wrong option', () => {
    const help = spawnSync('sh', [SCRIPT, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--uninstall/);
    const wrong = spawnSync('sh', [SCRIPT, '--frobnicate'], { encoding: 'utf8' });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/unknown option: --frobnicate/);
  });

  it.skipIf(!canInstall)('installs into a throwaway root, twice to the same tree; uninstall keeps data, purge removes it', { timeout: 240_000 }, () => {
    const first = install();
    expect(first.status, first.output).toBe(0);
    const tree = snapshot();

    // The program, production packages only, runnable, checking the example site it installed.
    expect(tree.has('opt/vigil/dist/agent/cli/main.js')).toBe(true);
    expect(tree.has('opt/vigil/drivers/profiles/gas-module-10reg.yaml')).toBe(true);
    expect(existsSync(join(root, 'opt/vigil/node_modules/serialport'))).toBe(true);
    expect(existsSync(join(root, 'opt/vigil/node_modules/vitest'))).toBe(false);
    expect(existsSync(join(root, 'opt/vigil/dist/test'))).toBe(false);
    const check = spawnSync(process.execPath, [join(root, 'opt/vigil/dist/agent/cli/main.js'), 'check', join(root, 'etc/vigil/site.yaml')], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(readFileSync(join(root, 'usr/local/bin/vigil'), 'utf8')).toMatch(/exec .*node \/opt\/vigil\/dist\/agent\/cli\/main\.js "\$@"/);

    // The user, in dialout and gpio; the unit enabled; config and data folders owned as the unit expects.
    const [passwd] = lines('etc/passwd', /^vigil:/);
    expect(passwd).toMatch(/^vigil:x:\d+:\d+:.*:\/var\/lib\/vigil:\/usr\/sbin\/nologin$/);
    const uid = Number(passwd!.split(':')[2]);
    expect(lines('etc/group', /^dialout:/)[0]).toMatch(/[:,]vigil(,|$)/);
    expect(lines('etc/group', /^gpio:/)[0]).toMatch(/[:,]vigil(,|$)/);
    expect(lstatSync(join(root, 'var/lib/vigil')).uid).toBe(uid);
    expect(tree.get('etc/systemd/system/multi-user.target.wants/vigil.service')).toMatch(/-> \/etc\/systemd\/system\/vigil\.service$/);
    for (const file of ['etc/udev/rules.d/99-vigil-rs485.rules', 'etc/systemd/journald.conf.d/vigil.conf', 'etc/vigil/vigil.env', 'usr/lib/sysusers.d/vigil.conf']) {
      expect(tree.has(file), file).toBe(true);
    }
    if (has('systemd-analyze')) {
      const verify = spawnSync('systemd-analyze', ['verify', join(root, 'etc/systemd/system/vigil.service')], { encoding: 'utf8' });
      expect(verify.status, verify.stderr).toBe(0);
    }

    // Again: the same tree, no line added twice.
    const second = install();
    expect(second.status, second.output).toBe(0);
    expect(snapshot()).toEqual(tree);
    expect(lines('etc/passwd', /^vigil:/)).toHaveLength(1);
    expect(lines('etc/group', /^vigil:/)).toHaveLength(1);
    expect(lines('etc/group', /^dialout:/)[0]!.split(/[:,]/).filter((m) => m === 'vigil')).toHaveLength(1);

    // The site's own files survive a re-install (an upgrade).
    writeFileSync(join(root, 'etc/vigil/site.yaml'), '# this site\n');
    writeFileSync(join(root, 'etc/udev/rules.d/99-vigil-rs485.rules'), '# edited on site\n');
    mkdirSync(join(root, 'var/lib/vigil/outbox'));
    writeFileSync(join(root, 'var/lib/vigil/outbox/segment'), 'data');
    const upgrade = install();
    expect(upgrade.status, upgrade.output).toBe(0);
    expect(readFileSync(join(root, 'etc/vigil/site.yaml'), 'utf8')).toBe('# this site\n');
    expect(readFileSync(join(root, 'etc/udev/rules.d/99-vigil-rs485.rules'), 'utf8')).toBe('# edited on site\n');
    expect(upgrade.output).toMatch(/kept your edited .*99-vigil-rs485\.rules/);

    const uninstall = install('--uninstall');
    expect(uninstall.status, uninstall.output).toBe(0);
    for (const gone of ['opt/vigil', 'etc/systemd/system/vigil.service', 'etc/systemd/system/multi-user.target.wants/vigil.service', 'usr/local/bin/vigil', 'etc/systemd/journald.conf.d/vigil.conf']) {
      expect(existsSync(join(root, gone)), gone).toBe(false);
    }
    expect(readFileSync(join(root, 'etc/vigil/site.yaml'), 'utf8')).toBe('# this site\n');
    expect(readFileSync(join(root, 'var/lib/vigil/outbox/segment'), 'utf8')).toBe('data');
    // Edited on site: kept until --purge.
    expect(existsSync(join(root, 'etc/udev/rules.d/99-vigil-rs485.rules'))).toBe(true);

    const purge = install('--uninstall', '--purge');
    expect(purge.status, purge.output).toBe(0);
    for (const gone of ['etc/vigil', 'var/lib/vigil', 'etc/udev/rules.d/99-vigil-rs485.rules', 'usr/lib/sysusers.d/vigil.conf']) {
      expect(existsSync(join(root, gone)), gone).toBe(false);
    }
    expect(lines('etc/passwd', /^vigil:/)).toHaveLength(1); // the user stays: its uid is never reused
  });
});
