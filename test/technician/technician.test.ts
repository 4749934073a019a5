/**
 * The technician commands as a technician runs them: the compiled CLI as a child process, against simulated
 * devices speaking real Modbus RTU over a pty pair (serial) and over TCP.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profile as profileSchema, type Profile } from '../../config/index.js';
import { startSerialSimulator, startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { CLI, runCli, type CliResult } from '../support/cli.js';
import { startLineGate, type LineGate } from '../support/line-gate.js';
import { shippedProfile } from '../support/profiles.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { until } from '../support/until.js';

/** A made-up probe with a float level in word-swapped order, so the byte-order columns can be told apart. */
const FLOAT_PROBE: Profile = profileSchema.parse({
  id: 'test-float-level',
  name: 'Float level probe (test)',
  addressBase: 0,
  registers: [
    { name: 'level', fn: 3, address: 0, type: 'f32', byteOrder: 'CDAB', unit: 'm' },
    { name: 'raw_count', fn: 3, address: 2, type: 's16' },
  ],
});

const dir = mkdtempSync(join(tmpdir(), 'vigil-tech-'));

interface ScanJson {
  interrupted: boolean;
  probes: { done: number; total: number };
  devices: Array<{ unit: number; lineText: string; profile: string | null; tied: string[]; answer: { kind: string } }>;
}

interface ReadJson {
  ok: boolean;
  registers: number[];
  words: Array<{ address: number; hex: string; u16: number; s16: number }>;
  wide: Array<{ address: number; type: string; orders: Record<string, { value: number | null; hex: string }> }>;
}

function json<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

describe('vigil scan over a serial line with devices at two baud rates', () => {
  let at9600: RunningSimulator;
  let at19200: RunningSimulator;
  let gate: LineGate;

  beforeAll(async () => {
    at9600 = await startTcpSimulator({
      devices: [
        { unit: 1, profile: shippedProfile('gas-module-10reg'), values: { unit_code: { constant: 0x2400 }, concentration: { constant: 12.5 } } },
        { unit: 2, profile: shippedProfile('gas-status-word') },
        { unit: 4, profile: shippedProfile('jxbs-3001-gas'), values: { concentration: { constant: 4.2 } } },
      ],
    });
    // The misconfigured one: same line, but set to 19200 baud.
    at19200 = await startTcpSimulator({ devices: [{ unit: 3, profile: shippedProfile('vw-converter') }] });
    gate = await startLineGate([
      { baud: 9600, simulator: at9600 },
      { baud: 19200, simulator: at19200 },
    ]);
  });

  afterAll(async () => {
    await gate?.stop();
    await at9600?.close();
    await at19200?.close();
  });

  it('finds each device at its own baud and names its profile (--json)', async () => {
    const result = await runCli(['scan', '--port', gate.path, '--baud', '9600,19200', '--parity', 'none', '--units', '1-5', '--timeout', '150', '--json'], {
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(0);
    const scan = json<ScanJson>(result);
    expect(scan.interrupted).toBe(false);
    expect(scan.probes).toEqual({ done: 10, total: 10 });
    const found = scan.devices.map((d) => `${d.unit}@${d.lineText}=${d.profile}`).sort();
    expect(found).toEqual([
      '1@9600 8N1=gas-module-10reg',
      '2@9600 8N1=gas-status-word',
      '3@19200 8N1=vw-converter',
      '4@9600 8N1=jxbs-3001-gas',
    ]);
    // An exception answer proves a device is there: the status-word probe has nothing at address 0.
    expect(scan.devices.find((d) => d.unit === 2)?.answer.kind).toBe('exception');
  });

  it('prints a readable table with the reasons (no --json)', async () => {
    const result = await runCli(['scan', '--port', gate.path, '--baud', '19200', '--parity', 'none', '--units', '2-3', '--timeout', '150'], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('found unit 3 at 19200 8N1: vw-converter');
    expect(result.stdout).toMatch(/frequency = 1500 Hz within 400\.\.6000/);
    expect(result.stdout).not.toContain('found unit 2');
    expect(result.stdout).toContain('1 device(s) found');
  });
});

describe('vigil read and write on a serial port', () => {
  let pty: PtyPair;
  let simulator: RunningSimulator;

  beforeAll(async () => {
    pty = await startPtyPair();
    simulator = await startSerialSimulator({
      path: pty.b,
      line: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
      devices: [
        { unit: 7, profile: FLOAT_PROBE, values: { level: { constant: 12.5 }, raw_count: { constant: -2 } } },
        { unit: 9, profile: shippedProfile('gas-module-10reg'), values: { unit_code: { constant: 0x2400 }, concentration: { constant: 12.5 } } },
        { unit: 11, profile: shippedProfile('jxbs-3001-gas') },
      ],
    });
  });

  afterAll(async () => {
    await simulator?.close();
    await pty?.stop();
  });

  it('shows the raw words and every decoding; the right byte order gives the probe value', async () => {
    const table = await runCli(['read', '--port', pty.a, '--unit', '7', '--count', '3']);
    expect(table.code, table.stderr).toBe(0);
    // 12.5 as f32 is 0x41480000; word-swapped on the wire: 0000 4148.
    expect(table.stdout).toMatch(/0x0000\s+0000\s+0\s+0/);
    expect(table.stdout).toMatch(/0x0001\s+4148\s+16712\s+16712/);
    expect(table.stdout).toMatch(/0x0002\s+FFFE\s+65534\s+-2/);
    const f32Line = table.stdout.split('\n').find((line) => /^0x0000\s+f32/.test(line));
    expect(f32Line).toBeDefined();
    const [abcd, cdab] = f32Line!.trim().split(/\s+/).slice(2);
    expect(cdab).toBe('12.5');
    expect(abcd).not.toBe('12.5');

    const parsed = json<ReadJson>(await runCli(['read', '--port', pty.a, '--unit', '7', '--count', '3', '--json']));
    expect(parsed.registers).toEqual([0x0000, 0x4148, 0xfffe]);
    expect(parsed.words[2]).toMatchObject({ address: 2, hex: 'FFFE', u16: 65534, s16: -2 });
    const f32 = parsed.wide.find((row) => row.address === 0 && row.type === 'f32')!;
    expect(f32.orders.CDAB!.value).toBe(12.5);
    expect(f32.orders.CDAB!.hex).toBe('41480000');
    expect(f32.orders.ABCD!.value).not.toBe(12.5);
    const s32 = parsed.wide.find((row) => row.address === 1 && row.type === 's32')!;
    expect(s32.orders.ABCD!.value).toBe((0x4148fffe | 0));
  });

  it('--profile decodes through the profile: value, unit, quality', async () => {
    const result = await runCli(['read', '--port', pty.a, '--unit', '9', '--profile', 'gas-module-10reg', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const parsed = json<{ readings: Array<{ register: string; value: number | null; unit: string; quality: string }> }>(result);
    expect(parsed.readings.find((r) => r.register === 'concentration')).toMatchObject({ value: 12.5, unit: '%LEL', quality: 'good' });
    expect(parsed.readings.find((r) => r.register === 'temperature')).toMatchObject({ value: 20, unit: '°C', quality: 'good' });
    const text = await runCli(['read', '--port', pty.a, '--unit', '9', '--profile', 'gas-module-10reg']);
    expect(text.stdout).toMatch(/concentration\s+0x0001\s+007D\s+12\.5 %LEL\s+good/);
  });

  it('writes a register and confirms it by reading it back; the device really holds it', async () => {
    const result = await runCli(['write', '--port', pty.a, '--unit', '11', '--address', '0x0101', '--value', '5']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('FC06 0x0101 ← 0x0005 (5)');
    expect(result.stdout).toContain('read back 0x0005 (5) · confirmed');
    expect(simulator.readHoldingRegister(11, 0x0101)).toBe(5);

    const multi = json<{ ok: boolean; fc: number; readBack: number[]; confirmed: boolean }>(
      await runCli(['write', '--port', pty.a, '--unit', '11', '--address', '0x0100', '--value', '11,6', '--json']),
    );
    expect(multi).toMatchObject({ ok: true, fc: 16, readBack: [11, 6], confirmed: true });
    expect(simulator.readHoldingRegister(11, 0x0101)).toBe(6);
  });

  it('a refused write is a runtime failure (exit 1) that says why', async () => {
    const result = await runCli(['write', '--port', pty.a, '--unit', '11', '--address', '0x0006', '--value', '1']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('illegal data address');
  });

  it('a unit that does not answer is a runtime failure (exit 1)', async () => {
    const result = await runCli(['read', '--port', pty.a, '--unit', '99', '--timeout', '100', '--retries', '0']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('no answer from unit 99');
  });
});

describe('vigil write (coil), profile new/check, Ctrl-C over TCP', () => {
  let simulator: RunningSimulator;
  let tcp: string;

  beforeAll(async () => {
    simulator = await startTcpSimulator({
      devices: [
        { unit: 1, profile: shippedProfile('gas-module-10reg'), values: { unit_code: { constant: 0x2400 }, concentration: { constant: 12.5 } } },
        { unit: 2, profile: shippedProfile('relay-board-8ch') },
        { unit: 6, profile: FLOAT_PROBE, values: { level: { constant: 3.25 } } },
      ],
    });
    const endpoint = simulator.endpoint as { host: string; port: number };
    tcp = `${endpoint.host}:${endpoint.port}`;
  });

  afterAll(async () => {
    await simulator?.close();
  });

  it('switches a relay coil with FC05 and reads it back', async () => {
    expect(simulator.readCoil(2, 3)).toBe(false);
    const result = await runCli(['write', '--tcp', tcp, '--unit', '2', '--address', '3', '--coil', '--value', 'on']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('read back on · confirmed');
    expect(simulator.readCoil(2, 3)).toBe(true);
    await runCli(['write', '--tcp', tcp, '--unit', '2', '--address', '3', '--coil', '--value', 'off']);
    expect(simulator.readCoil(2, 3)).toBe(false);
  });

  it('profile new drafts a profile from a saved scan that profile check accepts; never overwrites without --force', async () => {
    const scan = await runCli(['scan', '--tcp', tcp, '--units', '1-6', '--timeout', '100', '--json']);
    expect(scan.code, scan.stderr).toBe(0);
    const scanFile = join(dir, 'scan.json');
    writeFileSync(scanFile, scan.stdout);
    const parsed = json<ScanJson>(scan);
    // No shipped profile is ahead for the float probe (its register 0 reads 0, which any crack gauge could say).
    expect(parsed.devices.find((d) => d.unit === 6)?.profile).toBeNull();

    const gasFile = join(dir, 'acme-gas.yaml');
    const made = await runCli(['profile', 'new', gasFile, '--from', scanFile, '--unit', '1']);
    expect(made.code, made.stderr).toBe(0);
    const draft = readFileSync(gasFile, 'utf8');
    expect(draft).toContain('id: acme-gas');
    expect(draft).toContain('Closest shipped profile: gas-module-10reg');
    expect(draft).toContain('- name: concentration');
    const checked = await runCli(['profile', 'check', gasFile]);
    expect(checked.code, checked.stdout).toBe(0);
    expect(checked.stdout).toContain('valid');
    // the draft reads the device as the shipped profile does
    const read = json<{ readings: Array<{ register: string; value: number | null; unit: string }> }>(
      await runCli(['read', '--tcp', tcp, '--unit', '1', '--profile', gasFile, '--json']),
    );
    expect(read.readings.find((r) => r.register === 'concentration')).toMatchObject({ value: 12.5, unit: '%LEL' });

    const again = await runCli(['profile', 'new', gasFile, '--from', scanFile, '--unit', '1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(readFileSync(gasFile, 'utf8')).toBe(draft);
    expect((await runCli(['profile', 'new', gasFile, '--from', scanFile, '--unit', '1', '--force'])).code).toBe(0);

    const unknownFile = join(dir, 'float.yaml');
    const fromBus = await runCli(['profile', 'new', unknownFile, '--tcp', tcp, '--unit', '6', '--registers', '8']);
    expect(fromBus.code, fromBus.stderr).toBe(0);
    const unknownDraft = readFileSync(unknownFile, 'utf8');
    expect(unknownDraft).toContain('hr_0000');
    expect(unknownDraft).toContain('TODO');
    expect((await runCli(['profile', 'check', unknownFile])).code).toBe(0);
  });

  it('profile check reports a broken profile with file:line:column and exit 2', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      ['id: broken-probe', 'name: Broken', 'addressBase: 0', 'registers:', '  - name: level', '    fn: 3', '    address: 0', '    type: u17', ''].join('\n'),
    );
    const result = await runCli(['profile', 'check', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/broken\.yaml:8:\d+/);
    expect(result.stdout).toContain('registers[0].type');
    const parsed = json<{ ok: boolean; errors: Array<{ line: number; path: string }> }>(await runCli(['profile', 'check', file, '--json']));
    expect(parsed.ok).toBe(false);
    expect(parsed.errors[0]).toMatchObject({ line: 8, path: 'registers[0].type' });
  });

  it('Ctrl-C during a scan prints what was found so far and exits 0', async () => {
    // The walk over all 247 ids takes a while at 300 ms per silent id; the signal comes once units 1 and 2 are in.
    const child = spawn(process.execPath, [CLI, 'scan', '--tcp', tcp, '--timeout', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await until(() => stdout.includes('found unit 2') || child.exitCode !== null, 20_000, 'unit 2 found');
    expect(child.exitCode, `the scan ended before the signal: ${stdout}${stderr}`).toBeNull();
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(0);
    expect(stdout).toContain('scan interrupted after');
    expect(stdout).toMatch(/^\s+1\s+tcp\s+0x2400\s+gas-module-10reg/m);
    expect(stdout).toMatch(/^\s+2\s+tcp\s+exception 2\s+relay-board-8ch/m);
    expect(stdout).toMatch(/2 device\(s\) found/);
  });

  it('Ctrl-C during a --json scan still gives valid JSON marked interrupted', async () => {
    const before = simulator.stats().perUnit[9] ?? 0;
    const child = spawn(process.execPath, [CLI, 'scan', '--tcp', tcp, '--timeout', '300', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await until(() => (simulator.stats().perUnit[9] ?? 0) > before || child.exitCode !== null, 20_000, 'unit 9 probed');
    expect(child.exitCode, `the scan ended before the signal: ${stdout}${stderr}`).toBeNull();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const scan = JSON.parse(stdout) as ScanJson;
    expect(scan.interrupted).toBe(true);
    expect(scan.probes.done).toBeLessThan(scan.probes.total);
    expect(scan.devices.map((d) => d.unit)).toEqual([1, 2, 6]);
  });
});

describe('bad arguments are invalid input (exit 2) with a clear message', () => {
  it.each([
    [['read'], 'say where the bus is'],
    [['read', '--port', '/dev/null', '--tcp', 'h:1'], 'either --port or --tcp'],
    [['read', '--tcp', 'nohost'], 'expected HOST:PORT'],
    [['read', '--port', '/dev/ttyX', '--fc', '7'], '--fc "7": expected an integer 1-4'],
    [['read', '--port', '/dev/ttyX', '--unit', '300'], '--unit "300": expected an integer 1-247'],
    [['read', '--port', '/dev/ttyX', '--baud', '9601'], 'not a usual baud rate'],
    [['read', '--port', '/dev/ttyX', '--profile', 'no-such-profile'], 'no such profile'],
    [['scan', '--port', '/dev/ttyX', '--units', '0-300'], 'unit ids run from 1 to 247'],
    [['scan', '--port', '/dev/ttyX', '--parity', 'none,mark'], 'expected none, even or odd'],
    [['scan', '--tcp', '127.0.0.1:1502', '--baud', '9600,19200'], 'the device server fixes baud and parity'],
    [['write', '--port', '/dev/ttyX', '--unit', '1', '--address', '0'], '--value is required'],
    [['write', '--port', '/dev/ttyX', '--unit', '1', '--address', '0', '--coil', '--value', 'maybe'], 'a coil is on or off'],
    [['write', '--port', '/dev/ttyX', '--unit', '1', '--address', '0', '--value', '70000'], 'expected an integer -32768-65535'],
    [['profile'], 'expected a subcommand'],
    [['profile', 'new', 'x.yaml'], 'say where the facts come from'],
    [['profile', 'new', 'x.yaml', '--from', 'missing.json', '--id', 'Bad_Id'], 'lower-kebab-case'],
  ])('vigil %j', async (args, message) => {
    const result = await runCli(args as string[]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('a port that cannot be opened is a runtime failure (exit 1) naming the port', async () => {
    const result = await runCli(['read', '--port', join(dir, 'no-such-tty')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot open');
    expect(result.stderr).toContain('no-such-tty');
  });

  it.each(['scan', 'read', 'write', 'profile'])('%s --help shows its usage', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: vigil ${command}`);
  });
});
