import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, ConfigError } from '../../config/index.js';
import { loadSite, loadSiteText } from '../../config/index.js';
import { errorAt, fixtureProfiles, positionOf, tempDir } from './helpers.js';

const FILE = '/srv/sites/site.yaml';

function check(text: string): CheckResult {
  return loadSiteText(text, FILE, { profileDirs: [fixtureProfiles] });
}

function errorsOf(text: string): ConfigError[] {
  const result = check(text);
  expect(result.ok, 'the site should be rejected').toBe(false);
  return result.ok ? [] : result.errors;
}

function expectAt(error: ConfigError, text: string, needle: string, occurrence = 0): void {
  expect({ file: error.file, line: error.line, column: error.column }).toEqual({
    file: FILE,
    ...positionOf(text, needle, occurrence),
  });
}

const VALID = `# a small valid site
site: { id: s1, name: Test site, kind: septic-tank }
buses:
  - id: rs485
    serial: { path: /dev/vigil-test-port-a, baud: 9600 }
devices:
  - id: ch4
    bus: rs485
    unit: 1
    profile: fixture-gas
    interval: 2s
    fastInterval: 1s
    channels:
      - { id: tank.ch4, register: concentration }
  - id: relays
    bus: rs485
    unit: 10
    profile: fixture-relays
    channels:
      - { id: tank.fan, register: relay_1 }
      - { id: tank.fan.running, register: input_1 }
`;

describe('a valid site', () => {
  it('loads, with defaults applied and durations in milliseconds; coil and input channels are fine', () => {
    const result = check(VALID);
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    expect(result.site.devices[0]!.interval).toBe(2000);
    expect(result.site.devices[0]!.fastInterval).toBe(1000);
    expect(result.site.devices[1]!.interval).toBe(5000);
    expect(result.site.devices[1]!.breaker).toEqual({ failures: 3, minBackoff: 2000, maxBackoff: 60_000 });
    expect(result.profiles.get('fixture-gas')?.file).toBe(join(fixtureProfiles, 'fixture-gas.yaml'));
    expect(result.warnings).toEqual([]);
  });
});

describe('schema errors', () => {
  it('an unknown key is reported at the key, with the closest allowed key', () => {
    const text = VALID.replace('{ id: tank.ch4, register: concentration }', '{ id: tank.ch4, register: concentration, indicatr: CH4 }');
    const error = errorAt(errorsOf(text), 'devices[0].channels[0].indicatr');
    expectAt(error, text, 'indicatr');
    expect(error.message).toBe('unknown key "indicatr"');
    expect(error.hint).toBe('did you mean "indicator"?');
  });

  it('an enum value gets "did you mean"', () => {
    const text = VALID.replace('kind: septic-tank', 'kind: septic-tnak');
    const error = errorAt(errorsOf(text), 'site.kind');
    expectAt(error, text, 'septic-tnak');
    expect(error.message).toContain('"septic-tank", "dangerous-rock", "other"');
    expect(error.hint).toBe('did you mean "septic-tank"?');
  });

  it('a bare number as a duration is refused with a unit suggested', () => {
    const text = VALID.replace('interval: 2s', 'interval: 30');
    const error = errorAt(errorsOf(text), 'devices[0].interval');
    expectAt(error, text, '30');
    expect(error.message).toMatch(/^expected a duration with a unit/);
    expect(error.hint).toContain('"30s"');
  });

  it('a misspelt duration unit gets the right spelling', () => {
    const text = VALID.replace('interval: 2s', 'interval: 2 sec');
    expect(errorAt(errorsOf(text), 'devices[0].interval').hint).toBe('did you mean "2s"?');
  });

  it('a missing required field is reported at the nearest existing parent', () => {
    const text = VALID.replace('    unit: 10\n', '');
    const error = errorAt(errorsOf(text), 'devices[1].unit');
    expect(error.message).toBe('missing "unit" (a number)');
    expectAt(error, text, 'id: relays');
  });

  it('a TCP bus is judged as a TCP bus, not as a serial bus with an unknown "tcp" key', () => {
    const text = VALID.replace('serial: { path: /dev/vigil-test-port-a, baud: 9600 }', 'tcp: { host: 10.0.0.7, prot: 4001 }');
    const errors = errorsOf(text);
    expect(errors.map((e) => e.path).sort()).toEqual(['buses[0].tcp.port', 'buses[0].tcp.prot']);
    expect(errorAt(errors, 'buses[0].tcp.prot').hint).toBe('did you mean "port"?');
  });

  it('a quoted number is refused with a hint to drop the quotes', () => {
    const text = VALID.replace('unit: 1\n', 'unit: "1"\n');
    const error = errorAt(errorsOf(text), 'devices[0].unit');
    expect(error.message).toBe('expected a number, got "1"');
    expect(error.hint).toBe('write the number without quotes');
  });
});

describe('references and duplicates', () => {
  it('a profile that does not exist gets the closest id', () => {
    const text = VALID.replace('profile: fixture-gas', 'profile: fixture-gsa');
    const error = errorAt(errorsOf(text), 'devices[0].profile');
    expectAt(error, text, 'fixture-gsa');
    expect(error.message).toBe('no profile "fixture-gsa"');
    expect(error.hint).toBe('did you mean "fixture-gas"?');
  });

  it('a shipped profile id misspelt is found among the shipped profiles', () => {
    const text = VALID.replace('profile: fixture-gas', 'profile: gas-modul-10reg');
    const error = errorAt(errorsOf(text), 'devices[0].profile');
    expect(error.message).toBe('no profile "gas-modul-10reg"');
    expect(error.hint).toBe('did you mean "gas-module-10reg"?');
  });

  it('a channel mapped to a register the profile lacks lists the registers', () => {
    const text = VALID.replace('register: concentration', 'register: concentraton');
    const error = errorAt(errorsOf(text), 'devices[0].channels[0].register');
    expectAt(error, text, 'concentraton');
    expect(error.message).toBe('profile "fixture-gas" has no register "concentraton"');
    expect(error.hint).toBe('did you mean "concentration"? (registers: unit_code, concentration, status, temperature)');
  });

  it('a device on a bus that is not defined', () => {
    const text = VALID.replace('bus: rs485\n    unit: 10', 'bus: rs458\n    unit: 10');
    const error = errorAt(errorsOf(text), 'devices[1].bus');
    expectAt(error, text, 'rs458');
    expect(error).toMatchObject({ message: 'no bus "rs458"', hint: 'did you mean "rs485"?' });
  });

  it('duplicate bus, device and channel ids, each at the second one with the line of the first', () => {
    const text = VALID.replace(
      'devices:\n',
      '  - id: rs485\n    serial: { path: /dev/vigil-test-port-b }\ndevices:\n',
    )
      .replace('id: relays', 'id: ch4')
      .replace('id: tank.fan.running', 'id: tank.ch4');
    const errors = errorsOf(text);
    expect(errors).toHaveLength(3);
    const bus = errorAt(errors, 'buses[1].id');
    expectAt(bus, text, 'rs485', 1);
    expect(bus).toMatchObject({ message: 'bus id "rs485" is used twice', hint: 'first at line 4' });
    const device = errorAt(errors, 'devices[1].id');
    expectAt(device, text, 'ch4\n', 1);
    expect(device.message).toBe('device id "ch4" is used twice');
    const channel = errorAt(errors, 'devices[1].channels[1].id');
    expect(channel.message).toBe('channel id "tank.ch4" is used twice in the site');
    expect(channel.hint).toBe(`first at line ${positionOf(text, 'id: tank.ch4').line}`);
  });

  it('two devices with the same unit id on one bus', () => {
    const text = VALID.replace('unit: 10', 'unit: 1');
    const error = errorAt(errorsOf(text), 'devices[1].unit');
    expectAt(error, text, '1\n    profile: fixture-relays');
    expect(error.message).toBe('unit 1 is already used by device "ch4" on bus "rs485"');
  });

  it('the same unit id on two different buses is fine', () => {
    const text = VALID.replace(
      'devices:\n',
      '  - id: rs485b\n    serial: { path: /dev/vigil-test-port-b }\ndevices:\n',
    ).replace('bus: rs485\n    unit: 10', 'bus: rs485b\n    unit: 1');
    const result = check(text);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it('two buses on one serial port, and two on one TCP endpoint', () => {
    const text = VALID.replace(
      'devices:\n',
      [
        '  - id: again',
        '    serial: { path: /dev/vigil-test-port-a }',
        '  - id: server1',
        '    tcp: { host: gw.local, port: 4001 }',
        '  - id: server2',
        '    tcp: { host: GW.local, port: 4001 }',
        'devices:',
        '',
      ].join('\n'),
    );
    const errors = errorsOf(text);
    expect(errors).toHaveLength(2);
    const serial = errorAt(errors, 'buses[1].serial.path');
    expectAt(serial, text, '/dev/vigil-test-port-a', 1);
    expect(serial.message).toBe('"/dev/vigil-test-port-a" is already used by bus "rs485"');
    expect(errorAt(errors, 'buses[3].tcp').message).toBe('"GW.local:4001" (the same port as "gw.local:4001") is already used by bus "server1"');
  });
});

describe('ports behind symlinks', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('a by-id symlink and the device it points to are one port', () => {
    const dir = tempDir();
    dirs.push(dir);
    const device = join(dir.path, 'ttyUSB0');
    const byId = join(dir.path, 'usb-FTDI_FT232R-if00-port0');
    writeFileSync(device, '');
    symlinkSync(device, byId);
    const text = VALID.replace('/dev/vigil-test-port-a', byId).replace(
      'devices:\n',
      `  - id: raw\n    serial: { path: ${device} }\ndevices:\n`,
    );
    const error = errorAt(errorsOf(text), 'buses[1].serial.path');
    expect(error.message).toBe(`"${device}" (the same port as "${byId}") is already used by bus "rs485"`);
  });
});

describe('computed registers and intervals', () => {
  const VW = (params: string): string =>
    VALID.replace(
      '  - id: relays',
      `  - id: vw\n    bus: rs485\n    unit: 3\n    profile: fixture-vw\n    channels:\n      - id: crack3\n        register: displacement\n${params}  - id: relays`,
    );

  it('all params given (K has a default) is fine', () => {
    const result = check(VW('        params: { G: 0.008, R0: 6500, T0: 18.5 }\n'));
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it('missing params without defaults and unknown params are errors', () => {
    const text = VW('        params: { G: 0.008, r0: 6500 }\n');
    const errors = errorsOf(text);
    expect(errors).toHaveLength(2);
    const missing = errorAt(errors, 'devices[1].channels[0].params');
    expectAt(missing, text, 'params:');
    expect(missing.message).toBe('register "displacement" needs params R0, T0');
    const unknown = errorAt(errors, 'devices[1].channels[0].params.r0');
    expectAt(unknown, text, 'r0');
    expect(unknown).toMatchObject({ message: 'register "displacement" has no param "r0"', hint: 'did you mean "R0"?' });
  });

  it('with no params at all, the error points at the register', () => {
    const text = VW('');
    const error = errorAt(errorsOf(text), 'devices[1].channels[0].register');
    expect(error.message).toBe('register "displacement" needs params G, R0, T0');
    expectAt(error, text, 'displacement');
  });

  it('params on a register read from the device are an error', () => {
    const text = VALID.replace('{ id: tank.ch4, register: concentration }', '{ id: tank.ch4, register: concentration, params: { G: 1 } }');
    const error = errorAt(errorsOf(text), 'devices[0].channels[0].params');
    expect(error.message).toBe('register "concentration" is read from the device and takes no params');
  });

  it('a fastInterval longer than the interval, on the device and on a channel', () => {
    const text = VALID.replace('fastInterval: 1s', 'fastInterval: 5s').replace(
      '{ id: tank.fan, register: relay_1 }',
      '{ id: tank.fan, register: relay_1, interval: 1m, fastInterval: 2m }',
    );
    const errors = errorsOf(text);
    expect(errors).toHaveLength(2);
    expect(errorAt(errors, 'devices[0].fastInterval').message).toBe('fastInterval 5s is longer than the interval (2s)');
    const channel = errorAt(errors, 'devices[1].channels[0].fastInterval');
    expect(channel.message).toBe('fastInterval 2m is longer than the interval 1m');
    expectAt(channel, text, '2m');
  });
});

describe('all at once', () => {
  it('a file with five different mistakes gives five errors, in file order', () => {
    const text = VALID.replace('kind: septic-tank', 'kind: septic')
      .replace('serial: { path', 'serial: { bud: 9600, path')
      .replace('profile: fixture-gas', 'profile: fixture-gsa')
      .replace('register: relay_1', 'register: relay_9')
      .replace('unit: 10', 'unit: 1');
    const errors = errorsOf(text);
    expect(errors.map((e) => e.path)).toEqual([
      'site.kind',
      'buses[0].serial.bud',
      'devices[0].profile',
      'devices[1].unit',
      'devices[1].channels[0].register',
    ]);
    const lines = errors.map((e) => e.line);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  });
});

describe('YAML syntax', () => {
  it('a syntax error is reported with its position and nothing else is checked', () => {
    const text = VALID.replace('      - { id: tank.ch4, register: concentration }', '      - { id: tank.ch4, register: concentration');
    const errors = errorsOf(text);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    const first = errors[0]!;
    expect(first.file).toBe(FILE);
    expect(first.line).toBeGreaterThanOrEqual(positionOf(text, '{ id: tank.ch4').line);
    expect(first.line).toBeLessThanOrEqual(positionOf(text, '  - id: relays').line);
    expect(first.message).not.toMatch(/at line \d+/);
  });

  it('a key written twice is a syntax error at the second one', () => {
    const text = VALID.replace('    unit: 1\n', '    unit: 1\n    unit: 2\n');
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject(positionOf(text, 'unit: 2'));
    expect(errors[0]!.message).toMatch(/unique/);
  });

  it('an empty file says that the whole mapping is missing, at line 1', () => {
    const errors = errorsOf('# nothing here yet\n');
    expect(errors).toEqual([
      { file: FILE, line: 1, column: 1, path: '', message: 'expected a mapping of "key: value" lines, got an empty value' },
    ]);
  });

  it('a list where a mapping belongs is judged as a wrong type, not as a union puzzle', () => {
    const text = VALID.replace('  - id: rs485\n    serial: { path: /dev/vigil-test-port-a, baud: 9600 }\n', '  - rs485\n');
    const errors = errorsOf(text);
    const bus = errorAt(errors, 'buses[0]');
    expect(bus.message).toBe('expected a mapping of "key: value" lines, got "rs485"');
    expectAt(bus, text, 'rs485');
    expect(errors.filter((e) => e.path.endsWith('.bus')).map((e) => e.message)).toEqual(['no bus "rs485"', 'no bus "rs485"']);
  });

  it('a file that does not exist is one error naming it', () => {
    const result = loadSite('/nonexistent/vigil/site.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      { file: '/nonexistent/vigil/site.yaml', line: 0, column: 0, path: '', message: 'cannot read the file: it does not exist' },
    ]);
  });
});

describe('profile folders', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  function siteWithOwnProfiles(profileYaml: string, deviceProfile: string): { file: string; result: CheckResult } {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir.path, 'profiles'));
    writeFileSync(join(dir.path, 'profiles', 'own.yaml'), profileYaml);
    const file = join(dir.path, 'site.yaml');
    writeFileSync(
      file,
      VALID.replace('site: {', 'profileDirs: [profiles]\nsite: {').replace('profile: fixture-relays', `profile: ${deviceProfile}`),
    );
    return { file, result: loadSite(file, { profileDirs: [fixtureProfiles] }) };
  }

  it('profileDirs are found relative to the site file', () => {
    const { result } = siteWithOwnProfiles(
      'id: own-relays\nname: Own\naddressBase: 0\nregisters:\n  - { name: relay_1, fn: 1, address: 0, type: bit }\n  - { name: input_1, fn: 2, address: 0, type: bit }\n',
      'own-relays',
    );
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(result.ok && result.profiles.has('own-relays')).toBe(true);
  });

  it('a broken profile the site uses fails the site, with the profile file\'s own errors', () => {
    const { result } = siteWithOwnProfiles(
      'id: own-relays\nname: Own\naddressBase: 0\nregisters:\n  - { name: relay_1, fn: 1, address: 0, type: u16 }\n',
      'own-relays',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(2);
    const own = result.errors.find((e) => e.file.endsWith('own.yaml'));
    expect(own).toMatchObject({
      line: 5,
      path: 'registers[0].type',
      message: 'fn 1 reads single bits (coils): u16 is a register type; use type bit or fn 3/4',
    });
    const device = errorAt(result.errors, 'devices[1].profile');
    expect(device.message).toMatch(/^profile "own-relays" in .*own\.yaml cannot be used$/);
  });

  it('a broken profile nobody uses is only a warning', () => {
    const { result } = siteWithOwnProfiles('id: spare\nname: Spare\naddressBase: 2\nregisters: []\n', 'fixture-relays');
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.path).sort()).toEqual(['addressBase', 'registers']);
  });

  it('a profileDirs folder that does not exist is an error at its entry', () => {
    const text = VALID.replace('site: {', 'profileDirs: [./nowhere]\nsite: {');
    const error = errorAt(errorsOf(text), 'profileDirs[0]');
    expect(error.message).toBe('profile folder "./nowhere" not found');
    expect(error.hint).toBe('looked for /srv/sites/nowhere');
    expectAt(error, text, './nowhere');
  });
});
