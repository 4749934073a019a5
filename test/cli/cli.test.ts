import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const COMMANDS = ['run', 'check', 'demo', 'simulate'];

describe('vigil CLI', () => {
  it('lists its commands and exit codes', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toContain(command);
    expect(result.stdout).toMatch(/0 fine, 2 invalid input.*1 runtime failure/);
  });

  it.each(COMMANDS)('%s --help shows its usage and exits 0', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: vigil ${command}`);
    expect(result.stdout).toContain('--help');
  });

  it('an unknown command or option is invalid input (exit 2)', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const badOption = await runCli(['check', '--frobnicate', 'x.yaml']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('frobnicate');
  });

  it('check accepts both example sites', async () => {
    for (const example of ['septic-tank', 'dangerous-rock']) {
      const result = await runCli(['check', `config/examples/${example}.yaml`]);
      expect(result.stdout + result.stderr).toContain('valid');
      expect(result.code).toBe(0);
    }
  });

  it('check reports a broken site with positions and exits 2; run refuses to start on it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(
      file,
      [
        'site: { id: t1, name: Test }',
        'buses:',
        '  - id: b1',
        '    tcp: { host: 127.0.0.1, port: 1502 }',
        'devices:',
        '  - id: d1',
        '    bus: b2',
        '    unit: 1',
        '    profile: gas-module-10reg',
        '    channels:',
        '      - { id: c1, register: concentration }',
        '',
      ].join('\n'),
    );
    const checked = await runCli(['check', file]);
    expect(checked.code).toBe(2);
    expect(checked.stdout).toMatch(/site\.yaml:7:\d+/);
    expect(checked.stdout).toContain('devices[0].bus');

    const json = await runCli(['check', '--json', file]);
    expect(json.code).toBe(2);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; errors: Array<{ path: string; line: number }> };
    expect(parsed.ok).toBe(false);
    expect(parsed.errors.map((e) => e.path)).toContain('devices[0].bus');

    const run = await runCli(['run', '--config', file], { env: { VIGIL_DATA_DIR: dir } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('refusing to start');
  });
});

describe('vigil simulate', () => {
  it('refuses an invalid simulation file with every problem listed and exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-sim-'));
    const file = join(dir, 'sim.yaml');
    writeFileSync(
      file,
      ['transport: { tcp: { port: 0 } }', 'devices:', '  - { unit: 1, profile: gas-modul-10reg }', '  - { unit: 2, profile: gas-module-10reg, values: { concentraton: 3 } }', ''].join('\n'),
    );
    const result = await runCli(['simulate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('gas-modul-10reg');
    expect(result.stderr).toContain('concentraton');
  });
});
