import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../config/load/suggest.js';

describe('did you mean', () => {
  it('counts a swap of neighbouring letters as one edit', () => {
    expect(editDistance('adress', 'address')).toBe(1);
    expect(editDistance('tnak', 'tank')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('offers the closest name, ignoring case, only when it is plausibly meant', () => {
    expect(closest('displacment', ['displacement', 'temperature'])).toBe('displacement');
    expect(closest('r0', ['G', 'K', 'R0', 'T0'])).toBe('R0');
    expect(closest('warning', ['fatal', 'error', 'warn', 'info'])).toBe('warn');
    expect(closest('humidity', ['concentration', 'status'])).toBeUndefined();
    expect(closest('foo', ['fn', 'name'])).toBeUndefined();
  });
});
