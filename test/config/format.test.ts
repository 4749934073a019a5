import { describe, expect, it } from 'vitest';
import type { ConfigError } from '../../config/index.js';
import { formatErrors } from '../../config/index.js';

const errors: ConfigError[] = [
  {
    file: 'site.yaml',
    line: 14,
    column: 14,
    path: 'devices[2].profile',
    message: 'no profile "gas-modul-10reg"',
    hint: 'did you mean "gas-module-10reg"?',
  },
  { file: 'profiles', line: 0, column: 0, path: '', message: 'cannot read the profile folder: it does not exist' },
];

describe('formatErrors', () => {
  it('one line per error and a count line, plain for files and pipes', () => {
    expect(formatErrors(errors, { color: false })).toBe(
      [
        'site.yaml:14:14  devices[2].profile  no profile "gas-modul-10reg"  (did you mean "gas-module-10reg"?)',
        'profiles  cannot read the profile folder: it does not exist',
        '2 errors',
      ].join('\n'),
    );
  });

  it('coloured for a terminal, with the same text underneath', () => {
    const coloured = formatErrors(errors, { color: true });
    expect(coloured).toContain('\u001b[');
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(formatErrors(errors, { color: false }));
  });

  it('counts warnings as warnings, and one as one', () => {
    expect(formatErrors(errors.slice(0, 1), { color: false, kind: 'warning' }).split('\n').at(-1)).toBe('1 warning');
    expect(formatErrors([], { color: false })).toBe('0 errors');
  });
});
