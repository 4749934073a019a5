import { describe, expect, it } from 'vitest';
import { expandDependencies, planOptionsOf, planReads, pduAddress } from '../../drivers/modbus/plan.js';
import type { ProfileInput } from '../../config/schema/index.js';
import { inlineProfile, loadShippedProfile } from './helpers.js';

type RegisterInput = ProfileInput['registers'][number];

function u16At(name: string, address: number, extra: Partial<RegisterInput> = {}): RegisterInput {
  return { name, fn: 3, address, type: 'u16', ...extra } as RegisterInput;
}

describe('dependencies', () => {
  it('pulls in the status, decimals and unit registers of a gas concentration', () => {
    const gas = loadShippedProfile('gas-module-10reg');
    expect(new Set(expandDependencies(gas, ['concentration']))).toEqual(new Set(['concentration', 'unit_code', 'status']));
    expect(expandDependencies(gas, ['humidity'])).toEqual(['humidity']);
  });

  it('pulls in the inputs of computed registers recursively, inputs before the computed value', () => {
    const vw = loadShippedProfile('vw-converter');
    const order = expandDependencies(vw, ['displacement']);
    expect(new Set(order)).toEqual(new Set(['displacement', 'digits', 'frequency', 'temperature']));
    expect(order.indexOf('frequency')).toBeLessThan(order.indexOf('digits'));
    expect(order.indexOf('digits')).toBeLessThan(order.indexOf('displacement'));
    expect(order.indexOf('temperature')).toBeLessThan(order.indexOf('displacement'));
  });

  it('refuses unknown registers, unknown names in expressions and computed cycles', () => {
    const gas = loadShippedProfile('gas-module-10reg');
    expect(() => expandDependencies(gas, ['nope'])).toThrow(/unknown register "nope"/);
    const cyclic = inlineProfile({
      addressBase: 0,
      registers: [
        { name: 'a', compute: 'b + 1' },
        { name: 'b', compute: 'a * 2' },
      ],
    });
    expect(() => expandDependencies(cyclic, ['a'])).toThrow(/computed from itself/);
    const stray = inlineProfile({ addressBase: 0, registers: [u16At('x', 0), { name: 'y', compute: 'x * gain' }] });
    expect(() => expandDependencies(stray, ['y'])).toThrow(/"gain", which is neither a register nor a param/);
  });

  it('lets a status register qualify itself (raw bits only, no cycle)', () => {
    const selfish = inlineProfile({
      addressBase: 0,
      registers: [u16At('s', 0, { status: 's', states: { values: { '1': 'ok' } } })],
    });
    expect(expandDependencies(selfish, ['s'])).toEqual(['s']);
  });
});

describe('address base', () => {
  it('converts 1-based manual addresses to PDU addresses', () => {
    const vw = loadShippedProfile('vw-converter'); // addressBase 1: "reg 1" and "reg 2"
    expect(planReads(vw, ['frequency', 'temperature']).blocks).toEqual([{ fn: 3, address: 0, count: 2 }]);
    const oneBased = inlineProfile({ addressBase: 1, registers: [u16At('first', 1), u16At('forty', 40)] });
    expect(planReads(oneBased, ['forty']).blocks).toEqual([{ fn: 3, address: 39, count: 1 }]);
  });

  it('keeps 0-based addresses as they are', () => {
    const gas = loadShippedProfile('gas-status-word');
    expect(planReads(gas, ['concentration']).blocks).toEqual([{ fn: 3, address: 0x6000, count: 2 }]);
  });

  it('refuses an address outside the address space of its base', () => {
    const bad = inlineProfile({ addressBase: 1, registers: [u16At('zero', 0)] });
    expect(() => pduAddress(bad, bad.registers[0] as never)).toThrow(/outside/);
    const tooHigh = inlineProfile({ addressBase: 0, registers: [u16At('top', 65535, { type: 'u32' })] });
    expect(() => planReads(tooHigh, ['top'])).toThrow(/outside/);
  });
});

describe('merging', () => {
  it('reads the whole gas module in one request', () => {
    const gas = loadShippedProfile('gas-module-10reg');
    const plan = planReads(gas, ['concentration', 'temperature', 'humidity', 'gas_type']);
    expect(plan.blocks).toEqual([{ fn: 3, address: 0, count: 10 }]);
    expect(plan.slots.get('humidity')).toEqual({ block: 0, offset: 9 });
    expect(plan.slots.get('status')).toEqual({ block: 0, offset: 5 });
  });

  it('spans a gap of up to maxGap unused registers, and no more', () => {
    const gas = loadShippedProfile('gas-module-10reg');
    // concentration needs 0x0000, 0x0001 and 0x0005: three unused registers (2, 3, 4) between 1 and 5
    expect(planReads(gas, ['concentration'], { ...planOptionsOf(gas), maxGap: 3 }).blocks).toEqual([
      { fn: 3, address: 0, count: 6 },
    ]);
    expect(planReads(gas, ['concentration'], { ...planOptionsOf(gas), maxGap: 2 }).blocks).toEqual([
      { fn: 3, address: 0, count: 2 },
      { fn: 3, address: 5, count: 1 },
    ]);
  });

  it('never asks for more than maxRegistersPerRead (125 by default)', () => {
    const p = inlineProfile({
      addressBase: 0,
      maxGap: 124,
      registers: [u16At('a', 0), u16At('b', 124), u16At('c', 125), u32('d', 200), u32('e', 323)],
    });
    // a..b = 0..124: 125 registers fit; c at 125 would make 126, so c starts a second block.
    // c..d = 125..201: 77 registers; e at 323..324 would make 325 - 125 = 200, so e starts a third block.
    expect(planReads(p, ['a', 'b', 'c', 'd', 'e']).blocks).toEqual([
      { fn: 3, address: 0, count: 125 },
      { fn: 3, address: 125, count: 77 },
      { fn: 3, address: 323, count: 2 },
    ]);
    expect(planReads(p, ['a', 'b'], { mergeReads: true, maxGap: 124, maxRegistersPerRead: 10 }).blocks).toEqual([
      { fn: 3, address: 0, count: 1 },
      { fn: 3, address: 124, count: 1 },
    ]);
  });

  it('never splits a 32-bit value, even at the block limit', () => {
    const p = inlineProfile({ addressBase: 0, registers: [u16At('a', 0), u32('b', 124)] });
    expect(planReads(p, ['a', 'b']).blocks).toEqual([
      { fn: 3, address: 0, count: 1 },
      { fn: 3, address: 124, count: 2 },
    ]);
  });

  it('sends one request per register when merging is off, sharing identical ones', () => {
    const gas = loadShippedProfile('gas-module-10reg');
    const plan = planReads(gas, ['concentration', 'low_setpoint'], { mergeReads: false, maxGap: 8, maxRegistersPerRead: 125 });
    expect(plan.blocks).toEqual([
      { fn: 3, address: 0, count: 1 },
      { fn: 3, address: 1, count: 1 },
      { fn: 3, address: 2, count: 1 },
      { fn: 3, address: 5, count: 1 },
    ]);
    expect(plan.slots.get('unit_code')).toEqual({ block: 0, offset: 0 });
    expect(plan.slots.get('status')).toEqual({ block: 3, offset: 0 });

    const sharedWord = inlineProfile({
      addressBase: 0,
      registers: [
        { name: 'hi', fn: 3, address: 8, type: 'bitfield', bits: '8-15' },
        { name: 'lo', fn: 3, address: 8, type: 'bitfield', bits: '0-7' },
      ],
    });
    expect(planReads(sharedWord, ['hi', 'lo'], { mergeReads: false, maxGap: 0, maxRegistersPerRead: 125 }).blocks).toEqual([
      { fn: 3, address: 8, count: 1 },
    ]);
  });

  it('keeps function codes apart and orders blocks by function code, then address', () => {
    const p = inlineProfile({
      addressBase: 0,
      registers: [
        { name: 'input_reg', fn: 4, address: 0 },
        { name: 'holding', fn: 3, address: 1 },
        { name: 'holding_low', fn: 3, address: 0 },
      ],
    });
    expect(planReads(p, ['input_reg', 'holding', 'holding_low']).blocks).toEqual([
      { fn: 3, address: 0, count: 2 },
      { fn: 4, address: 0, count: 1 },
    ]);
  });

  it('merges coils and discrete inputs by bits, up to 2000 and a gap of 16 bits per register of maxGap', () => {
    const relays = loadShippedProfile('relay-board-8ch');
    const all = relays.registers.map((r) => r.name);
    expect(planReads(relays, all).blocks).toEqual([
      { fn: 1, address: 0, count: 8 },
      { fn: 2, address: 0, count: 8 },
    ]);
    const sparse = inlineProfile({
      addressBase: 0,
      registers: [
        { name: 'c0', fn: 1, address: 0, type: 'bit' },
        { name: 'c129', fn: 1, address: 129, type: 'bit' }, // 128 unused bits between: maxGap 8 × 16
        { name: 'c300', fn: 1, address: 300, type: 'bit' }, // 170 unused bits after c129: too many
        { name: 'c1980', fn: 1, address: 1980, type: 'bit' },
        { name: 'c2005', fn: 1, address: 2005, type: 'bit' },
      ],
    });
    expect(planReads(sparse, ['c0', 'c129', 'c300']).blocks).toEqual([
      { fn: 1, address: 0, count: 130 },
      { fn: 1, address: 300, count: 1 },
    ]);
    // maxGap 124 allows 1984 unused bits: the limit that bites is 2000 bits per request (0..1980 fits, 2005 not)
    const wide = { mergeReads: true, maxGap: 124, maxRegistersPerRead: 125 };
    expect(planReads(sparse, ['c0', 'c1980', 'c2005'], wide).blocks).toEqual([
      { fn: 1, address: 0, count: 1981 },
      { fn: 1, address: 2005, count: 1 },
    ]);
  });

  it('is deterministic whatever order the registers are asked in', () => {
    const gas = loadShippedProfile('gas-module-10reg');
    const one = planReads(gas, ['humidity', 'concentration', 'temperature'], { mergeReads: true, maxGap: 0, maxRegistersPerRead: 125 });
    const two = planReads(gas, ['temperature', 'humidity', 'concentration'], { mergeReads: true, maxGap: 0, maxRegistersPerRead: 125 });
    expect(two.blocks).toEqual(one.blocks);
    expect(one.blocks).toEqual([
      { fn: 3, address: 0, count: 2 },
      { fn: 3, address: 5, count: 1 },
      { fn: 3, address: 7, count: 1 },
      { fn: 3, address: 9, count: 1 },
    ]);
  });
});

function u32(name: string, address: number): RegisterInput {
  return { name, fn: 3, address, type: 'u32' } as RegisterInput;
}
