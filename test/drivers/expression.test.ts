import { describe, expect, it } from 'vitest';
import { parseExpression } from '../../drivers/modbus/expression.js';

function value(text: string, vars: Record<string, number> = {}): number {
  const parsed = parseExpression(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.message} at column ${parsed.column}`);
  return parsed.evaluate(vars);
}

function failure(text: string): { message: string; column: number } {
  const parsed = parseExpression(text);
  if (parsed.ok) throw new Error(`${text} parsed but should not`);
  return { message: parsed.message, column: parsed.column };
}

describe('parseExpression', () => {
  it('evaluates numbers in every written form', () => {
    expect(value('42')).toBe(42);
    expect(value('1.5')).toBe(1.5);
    expect(value('.25')).toBe(0.25);
    expect(value('2.')).toBe(2);
    expect(value('1e3')).toBe(1000);
    expect(value('2.5E-2')).toBe(0.025);
  });

  it('applies precedence: * and / before + and -, left to right', () => {
    expect(value('1 + 2 * 3')).toBe(7);
    expect(value('(1 + 2) * 3')).toBe(9);
    expect(value('10 - 4 - 3')).toBe(3);
    expect(value('64 / 4 / 2')).toBe(8);
    expect(value('2 * 3 ^ 2')).toBe(18);
  });

  it('makes ^ right-associative and binds it tighter than unary minus', () => {
    expect(value('2 ^ 3 ^ 2')).toBe(512); // 2^(3^2), not (2^3)^2 = 64
    expect(value('-2 ^ 2')).toBe(-4);
    expect(value('(-2) ^ 2')).toBe(4);
    expect(value('2 ^ -1')).toBe(0.5);
    expect(value('--3')).toBe(3);
    expect(value('+3 - -3')).toBe(6);
  });

  it('calls abs, sqrt, min and max', () => {
    expect(value('abs(-3.5)')).toBe(3.5);
    expect(value('sqrt(16)')).toBe(4);
    expect(value('min(3, -1, 2)')).toBe(-1);
    expect(value('max(3, -1, 2)')).toBe(3);
    expect(value('max(a, b) - min(a, b)', { a: 2, b: 7 })).toBe(5);
  });

  it('lists the variables used, once each, and no function names', () => {
    const parsed = parseExpression('G * (frequency^2 / 1000 - R0) + K * (temperature - T0) + abs(G)');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect([...parsed.identifiers].sort()).toEqual(['G', 'K', 'R0', 'T0', 'frequency', 'temperature']);
  });

  it('computes the vibrating-wire displacement by hand', () => {
    // f = 1234.5 Hz → f² = 1523990.25 → digits = 1523.99025; 0.05·(1523.99025 − 1500) + 0.01·(21.5 − 20)
    // = 0.05·23.99025 + 0.015 = 1.1995125 + 0.015 = 1.2145125
    const vars = { frequency: 1234.5, temperature: 21.5, G: 0.05, K: 0.01, R0: 1500, T0: 20 };
    expect(value('G * (frequency^2 / 1000 - R0) + K * (temperature - T0)', vars)).toBeCloseTo(1.2145125, 9);
  });

  it('follows IEEE arithmetic for division by zero so callers can reject non-finite results', () => {
    expect(value('1 / x', { x: 0 })).toBe(Infinity);
    expect(Number.isNaN(value('sqrt(-1)'))).toBe(true);
  });

  it('throws at evaluation when a variable is missing rather than inventing a value', () => {
    const parsed = parseExpression('a + 1');
    if (!parsed.ok) throw new Error('should parse');
    expect(() => parsed.evaluate({})).toThrow(/"a"/);
  });

  it('reports errors with a 1-based column', () => {
    expect(failure('')).toEqual({ message: expect.stringMatching(/end of expression/), column: 1 });
    expect(failure('1 +')).toMatchObject({ column: 4 });
    expect(failure('1 + * 2')).toMatchObject({ column: 5 });
    expect(failure('(1 + 2')).toMatchObject({ message: expect.stringMatching(/expected "\)"/), column: 7 });
    expect(failure('1 + 2)')).toMatchObject({ message: expect.stringMatching(/unexpected "\)"/), column: 6 });
    expect(failure('a $ b')).toMatchObject({ message: expect.stringMatching(/"\$"/), column: 3 });
    expect(failure('2 3')).toMatchObject({ column: 3 });
  });

  it('rejects unknown functions, wrong argument counts and bare function names', () => {
    expect(failure('x + log(2)')).toMatchObject({ message: expect.stringMatching(/unknown function "log"/), column: 5 });
    expect(failure('sqrt(1, 2)')).toMatchObject({ message: expect.stringMatching(/sqrt\(\) takes 1/), column: 1 });
    expect(failure('min()')).toMatchObject({ column: 5 });
    expect(failure('abs + 1')).toMatchObject({ message: expect.stringMatching(/is a function/), column: 1 });
  });

  it('cannot reach JavaScript: constructor, __proto__ and friends are plain (missing) variables', () => {
    const parsed = parseExpression('constructor + __proto__');
    if (!parsed.ok) throw new Error('should parse');
    expect(parsed.identifiers).toEqual(['constructor', '__proto__']);
    expect(() => parsed.evaluate({})).toThrow(/no value/);
    expect(failure('toString(1)')).toMatchObject({ message: expect.stringMatching(/unknown function/) });
    expect(failure('process.exit(1)')).toMatchObject({ column: 8 });
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(failure('('.repeat(500) + '1' + ')'.repeat(500))).toMatchObject({ message: expect.stringMatching(/nested/) });
    expect(failure('-'.repeat(500) + '1')).toMatchObject({ message: expect.stringMatching(/nested/) });
    expect(value('('.repeat(30) + '1' + ')'.repeat(30))).toBe(1);
  });
});
