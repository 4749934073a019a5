import { describe, expect, it } from 'vitest';
import { checkValueScript, ScriptPlayer, valueScript } from '../../drivers/simulator/scripts.js';
import type { ValueScript } from '../../drivers/simulator/index.js';

const at = (script: ValueScript, ...times: number[]) => {
  const player = new ScriptPlayer(script, 1);
  return times.map((t) => player.valueAt(t));
};

describe('value scripts', () => {
  it('constant', () => {
    expect(at({ constant: 4.2 }, 0, 1e9)).toEqual([4.2, 4.2]);
  });

  it('ramp holds at the end, or starts again when it repeats', () => {
    expect(at({ ramp: { from: 10, to: 20, overMs: 1000 } }, 0, 250, 1000, 5000)).toEqual([10, 12.5, 20, 20]);
    expect(at({ ramp: { from: 10, to: 20, overMs: 1000, repeat: true } }, 500, 1250)).toEqual([15, 12.5]);
    expect(at({ ramp: { from: 0, to: -5, overMs: 0 } }, 0)).toEqual([-5]);
  });

  it('steps: the first value until the first step, then the latest step passed (in any written order)', () => {
    const script: ValueScript = { steps: [[5000, 3], [1000, 2], [0, 1]] };
    expect(at(script, 0, 999, 1000, 4999, 5000, 1e7)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(at({ steps: [[100, 9]] }, 0, 100)).toEqual([9, 9]);
  });

  it('replay: one value per period, then holds the last or repeats', () => {
    expect(at({ replay: { values: [1, 2, 3], everyMs: 100 } }, 0, 99, 100, 250, 10_000)).toEqual([1, 1, 2, 3, 3]);
    expect(at({ replay: { values: [1, 2, 3], everyMs: 100, repeat: true } }, 300, 450)).toEqual([1, 2]);
  });

  it('noise stays within base ± amplitude, varies, and repeats with the same seed', () => {
    const script: ValueScript = { noise: { base: 20, amplitude: 0.5, seed: 42 } };
    const first = at(script, ...Array.from({ length: 200 }, (_, i) => i));
    const again = at(script, ...Array.from({ length: 200 }, (_, i) => i));
    expect(first).toEqual(again);
    expect(first.every((v) => v >= 19.5 && v <= 20.5)).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(150);
    expect(Math.min(...first)).toBeLessThan(19.7);
    expect(Math.max(...first)).toBeGreaterThan(20.3);
    const otherSeed = at({ noise: { base: 20, amplitude: 0.5, seed: 43 } }, 0, 1, 2);
    expect(otherSeed).not.toEqual(first.slice(0, 3));
  });
});

describe('value script validation', () => {
  it('accepts a bare number and durations with units (simulation files)', () => {
    expect(valueScript.parse(3)).toEqual({ constant: 3 });
    expect(valueScript.parse({ ramp: { from: 0, to: 1, overMs: '2m' } })).toEqual({ ramp: { from: 0, to: 1, overMs: 120_000 } });
    expect(valueScript.parse({ steps: [['1s', 5]] })).toEqual({ steps: [[1000, 5]] });
  });

  it('names what is wrong', () => {
    expect(() => checkValueScript({ replay: { values: [], everyMs: 10 } }, 'unit 1 register "x"')).toThrow(/unit 1 register "x".*values/);
    expect(() => checkValueScript({ constant: 1, ramp: { from: 0, to: 1, overMs: 1 } } as unknown as ValueScript, 'here')).toThrow(
      /exactly one of/,
    );
    expect(() => checkValueScript({ noise: { base: 1, amplitude: -1 } }, 'here')).toThrow(/amplitude/);
  });
});
