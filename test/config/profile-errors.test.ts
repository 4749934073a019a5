import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigError } from '../../config/index.js';
import { checkProfileFile, checkProfileText, loadProfiles } from '../../config/index.js';
import { errorAt, fixtureProfiles, positionOf, tempDir } from './helpers.js';

const FILE = '/srv/profiles/test.yaml';

const HEAD = 'id: test-device\nname: Test device\naddressBase: 0\nregisters:\n';

function errorsOf(registers: string, head = HEAD): { text: string; errors: ConfigError[] } {
  const text = head + registers;
  const result = checkProfileText(text, FILE);
  expect(result.ok, 'the profile should be rejected').toBe(false);
  return { text, errors: result.ok ? [] : result.errors };
}

function single(registers: string, path: string, head = HEAD): { text: string; error: ConfigError } {
  const { text, errors } = errorsOf(registers, head);
  expect(errors.map((e) => e.path)).toEqual([path]);
  return { text, error: errors[0]! };
}

describe('valid profiles', () => {
  it('the fixture profiles pass, with defaults applied', () => {
    const result = checkProfileFile(join(fixtureProfiles, 'fixture-gas.yaml'));
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    expect(result.profile.byteOrder).toBe('ABCD');
    expect(result.profile.registers[0]).toMatchObject({ name: 'unit_code', type: 'u16', scale: 1, writable: false });
  });

  it('a bit of a holding register, a bitfield and 32-bit values on fn 3/4 are fine', () => {
    const result = checkProfileText(
      HEAD +
        '  - { name: warm, fn: 3, address: 0, type: bit, bit: 15 }\n' +
        '  - { name: field, fn: 4, address: 1, type: bitfield, bits: "8-11" }\n' +
        '  - { name: total, fn: 3, address: 65534, type: u32 }\n',
      FILE,
    );
    expect(result.ok ? [] : result.errors).toEqual([]);
  });
});

describe('references between registers', () => {
  it('register names must be unique', () => {
    const { text, error } = single('  - { name: a, fn: 3, address: 0 }\n  - { name: a, fn: 3, address: 1 }\n', 'registers[1].name');
    expect(error).toMatchObject({ message: 'register name "a" is used twice', hint: 'first at line 5' });
    expect(error).toMatchObject(positionOf(text, 'a, fn: 3, address: 1'));
  });

  it('status must name an existing register', () => {
    const { error } = single('  - { name: value, fn: 3, address: 0, status: stauts }\n  - { name: status, fn: 3, address: 1, states: { values: { "1": ok } } }\n', 'registers[0].status');
    expect(error.message).toBe('no register "stauts" in this profile (the status register)');
    expect(error.hint).toBe('did you mean "status"?');
  });

  it('the status register must have states', () => {
    const { error } = single('  - { name: value, fn: 3, address: 0, status: status }\n  - { name: status, fn: 3, address: 1 }\n', 'registers[0].status');
    expect(error.message).toBe('register "status" has no "states", so it cannot qualify other values');
  });

  it('decimalsFrom and unitFrom must name existing registers', () => {
    const { errors } = errorsOf(
      '  - name: value\n    fn: 3\n    address: 1\n    decimalsFrom: { register: unit_cod }\n    unitFrom: { register: nothing_like_it, map: { "0": ppm } }\n  - { name: unit_code, fn: 3, address: 0 }\n',
    );
    expect(errorAt(errors, 'registers[0].decimalsFrom.register').hint).toBe('did you mean "unit_code"?');
    expect(errorAt(errors, 'registers[0].unitFrom.register').hint).toBe('registers: value, unit_code');
  });
});

describe('types and Modbus tables', () => {
  it('bit on a register type is an error at the key', () => {
    const { text, error } = single('  - { name: a, fn: 3, address: 0, type: u16, bit: 3 }\n', 'registers[0].bit');
    expect(error.message).toBe('"bit" only goes with type bit (this register is u16)');
    expect(error).toMatchObject(positionOf(text, 'bit: 3'));
  });

  it('type bit on fn 3 needs bit', () => {
    const { error } = single('  - { name: a, fn: 3, address: 0, type: bit }\n', 'registers[0].type');
    expect(error.message).toBe('type bit on fn 3 (holding registers) needs "bit": which bit of the register, 0-15');
  });

  it('type bit on fn 1 needs no bit', () => {
    const { error } = single('  - { name: a, fn: 1, address: 0, type: bit, bit: 2 }\n', 'registers[0].bit');
    expect(error.message).toBe('fn 1 reads single coils: "bit" is not needed here');
  });

  it('bits only with bitfield, and bitfield needs bits', () => {
    const { errors } = errorsOf('  - { name: a, fn: 3, address: 0, bits: "0-3" }\n  - { name: b, fn: 3, address: 1, type: bitfield }\n');
    expect(errorAt(errors, 'registers[0].bits').message).toBe('"bits" only goes with type bitfield (this register is u16)');
    expect(errorAt(errors, 'registers[1].type').message).toBe('type bitfield needs "bits", e.g. "8-11"');
  });

  it('a backwards bit range', () => {
    const { error } = single('  - { name: a, fn: 3, address: 0, type: bitfield, bits: "11-8" }\n', 'registers[0].bits');
    expect(error).toMatchObject({ message: 'bit range "11-8" runs backwards', hint: 'write "8-11"' });
  });

  it('32-bit types only on fn 3/4', () => {
    const { error } = single('  - { name: a, fn: 2, address: 0, type: f32 }\n', 'registers[0].type');
    expect(error.message).toBe('fn 2 reads single bits (discrete inputs): f32 spans two registers; use type bit or fn 3/4');
  });

  it('a coil without a type (u16 by default) is reported at fn', () => {
    const { error } = single('  - { name: a, fn: 1, address: 0 }\n', 'registers[0].fn');
    expect(error.message).toBe('fn 1 reads single bits (coils): u16 is a register type; use type bit or fn 3/4');
  });

  it('input registers and discrete inputs cannot be writable', () => {
    const { error } = single('  - { name: a, fn: 4, address: 0, writable: true }\n', 'registers[0].writable');
    expect(error.message).toBe('fn 4 (input registers) is read-only on every Modbus device');
  });
});

describe('addresses', () => {
  const ONE_BASED = HEAD.replace('addressBase: 0', 'addressBase: 1');

  it('address 0 with addressBase 1', () => {
    const { text, error } = single('  - { name: a, fn: 3, address: 0 }\n', 'registers[0].address', ONE_BASED);
    expect(error.message).toBe('address 0 does not exist when addressBase is 1');
    expect(error.hint).toBe('if the manual counts from 0, set addressBase: 0');
    expect(error).toMatchObject(positionOf(text, '0 }'));
  });

  it('a 32-bit value whose second word is past the end', () => {
    const { error } = single('  - { name: a, fn: 3, address: 65535, type: u32 }\n', 'registers[0].address');
    expect(error.message).toBe('address 65535 (a u32 also uses 65536) is beyond the last Modbus address, 65535 with addressBase 0');
  });

  it('65536 is the last address when counting from 1, and too far when counting from 0', () => {
    expect(checkProfileText(`${ONE_BASED}  - { name: a, fn: 3, address: 65536 }\n`, FILE).ok).toBe(true);
    const { error } = single('  - { name: a, fn: 3, address: 65536 }\n', 'registers[0].address');
    expect(error.message).toBe('address 65536 is beyond the last Modbus address, 65535 with addressBase 0');
  });
});

describe('computed registers', () => {
  const READS = '  - { name: frequency, fn: 3, address: 0 }\n  - { name: temperature, fn: 3, address: 1 }\n';

  it('an expression that does not parse is reported at the character where it fails', () => {
    const { text, error } = single(`${READS}  - { name: d, compute: "frequency * * 2" }\n`, 'registers[2].compute');
    expect(error.message).toMatch(/^cannot read the expression: /);
    const start = positionOf(text, 'frequency * * 2');
    expect(error.line).toBe(start.line);
    expect(error.column).toBeGreaterThan(start.column);
    expect(error.column).toBeLessThanOrEqual(start.column + 'frequency * * 2'.length);
  });

  it('an unknown name in the expression, at its column, with the closest name', () => {
    const { text, error } = single(`${READS}  - { name: d, compute: "frequncy ^ 2 / 1000 * G", params: { G: {} } }\n`, 'registers[2].compute');
    expect(error.message).toBe('"frequncy" in the expression is neither a register of this profile nor a declared param');
    expect(error.hint).toBe('did you mean "frequency"?');
    expect(error).toMatchObject(positionOf(text, 'frequncy'));
  });

  it('an undeclared param is an unknown name', () => {
    const { error } = single(`${READS}  - { name: d, compute: "frequency * G" }\n`, 'registers[2].compute');
    expect(error.message).toBe('"G" in the expression is neither a register of this profile nor a declared param');
  });

  it('computed registers that depend on each other in a circle', () => {
    const { error } = single(`${READS}  - { name: a, compute: "b + 1" }\n  - { name: b, compute: "a * 2" }\n`, 'registers[2].compute');
    expect(error.message).toBe('computed registers depend on each other in a circle: a → b → a');
  });

  it('a computed register that uses itself', () => {
    const { error } = single(`${READS}  - { name: a, compute: "a + frequency" }\n`, 'registers[2].compute');
    expect(error.message).toBe('computed registers depend on each other in a circle: a → a');
  });

  it('a chain of computed registers is fine', () => {
    expect(checkProfileText(`${HEAD}${READS}  - { name: digits, compute: "frequency^2/1000" }\n  - { name: d, compute: "digits * 2" }\n`, FILE).ok).toBe(true);
  });
});

describe('schema and semantic errors together', () => {
  it('reports the schema errors and the semantic errors of the valid parts in one go', () => {
    const { errors } = errorsOf(
      '  - { name: a, fn: 5, address: 0 }\n' +
        '  - { name: b, fn: 3, adress: 1 }\n' +
        '  - { name: c, fn: 3, address: 2, status: a }\n' +
        '  - { name: d, comptue: "c * 2" }\n',
      HEAD.replace('addressBase: 0', 'addressBase: 2'),
    );
    expect(errors.map((e) => `${e.path}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`)).toEqual([
      'addressBase: expected one of 0, 1, got 2',
      'registers[0].fn: expected one of 1, 2, 3, 4, got 5',
      'registers[1].address: missing "address" (a number)',
      'registers[1].adress: unknown key "adress" (did you mean "address"?)',
      'registers[2].status: register "a" has no "states", so it cannot qualify other values (add a "states" map to register "a")',
      'registers[3].compute: missing "compute" (text)',
      'registers[3].comptue: unknown key "comptue" (did you mean "compute"?)',
    ]);
  });

  it('a YAML syntax error in a profile has its position', () => {
    const result = checkProfileText(`${HEAD}  - { name: a, fn: 3, address: 0\n`, FILE);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]!.file).toBe(FILE);
    expect(result.errors[0]!.line).toBeGreaterThanOrEqual(5);
  });
});

describe('profile folders', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  function folder(files: Record<string, string>): string {
    const dir = tempDir();
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir.path, name), text);
    return dir.path;
  }
  const profileText = (id: string, name: string): string =>
    `id: ${id}\nname: ${name}\naddressBase: 0\nregisters:\n  - { name: v, fn: 3, address: 0 }\n`;

  it('an earlier folder wins on a duplicate id, silently', () => {
    const first = folder({ 'x.yaml': profileText('x', 'First') });
    const second = folder({ 'x.yaml': profileText('x', 'Second'), 'y.yml': profileText('y', 'Only') });
    const { profiles, errors } = loadProfiles([first, second]);
    expect(errors).toEqual([]);
    expect(profiles.get('x')?.profile.name).toBe('First');
    expect(profiles.get('x')?.file).toBe(join(first, 'x.yaml'));
    expect(profiles.get('y')?.profile.name).toBe('Only');
  });

  it('the same id twice in one folder is an error at the second file\'s id', () => {
    const dir = folder({ 'a.yaml': profileText('x', 'A'), 'b.yaml': profileText('x', 'B') });
    const { profiles, errors } = loadProfiles([dir]);
    expect(errors).toEqual([
      {
        file: join(dir, 'b.yaml'),
        line: 1,
        column: 5,
        path: 'id',
        message: `profile id "x" is also used by ${join(dir, 'a.yaml')}`,
        hint: 'each profile needs its own id',
      },
    ]);
    expect(profiles.get('x')?.profile.name).toBe('A');
  });

  it('an invalid profile is left out and its errors reported; a missing folder is an error', () => {
    const dir = folder({ 'bad.yaml': 'id: bad\nname: Bad\naddressBase: 1\nregisters:\n  - { name: v, fn: 3, address: 0 }\n' });
    mkdirSync(join(dir, 'sub.yaml'));
    const { profiles, errors } = loadProfiles([dir, join(dir, 'missing')]);
    expect(profiles.size).toBe(0);
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      ['registers[0].address', 'address 0 does not exist when addressBase is 1'],
      ['', 'cannot read the file: it is a folder'],
      ['', 'cannot read the profile folder: it does not exist'],
    ]);
  });
});
