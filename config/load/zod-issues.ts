import type { z } from 'zod';
import type { ConfigError, PathSegment } from './config-error.js';
import { chooseUnionOption, isDurationSchema, objectKeys, schemaAt, unionOptions, valueAt } from './schema-walk.js';
import { didYouMean, listNames } from './suggest.js';
import type { YamlSource } from './yaml-source.js';

/**
 * Turns zod's issues into errors a technician can act on: located in the file, worded in terms of what to
 * write, with a "did you mean" where a name looks misspelt. Union failures are narrowed to the variant the
 * author meant instead of listing the problems of every variant.
 */

type Issue = z.core.$ZodIssue;

const DURATION_TEXT = 'a duration with a unit, like "500ms", "2s", "5m", "1h" or "7d"';
type Schema = z.core.$ZodType;

export function issuesToErrors(issues: readonly Issue[], root: Schema, source: YamlSource): ConfigError[] {
  const errors: ConfigError[] = [];
  const data = source.data;

  const visit = (issue: Issue, base: readonly PathSegment[]): void => {
    const path: PathSegment[] = [...base, ...(issue.path as PathSegment[])];
    const value = valueAt(data, path);
    const at = (message: string, hint?: string, where: 'key' | 'value' = 'value'): void => {
      errors.push(source.problem(path, message, { hint, at: where }));
    };

    switch (issue.code) {
      case 'invalid_union': {
        const branches = issue.errors;
        const literalValues = onlyLiteralMismatches(branches);
        if (literalValues) {
          at(`expected ${describeChoices(literalValues)}, got ${describe(value)}`);
          return;
        }
        const options = unionOptions(schemaAt(root, path, data, true));
        const chosen =
          options.length === branches.length
            ? chooseUnionOption(options, value, branches.map((b) => b.length))
            : 0;
        for (const inner of branches[chosen] ?? []) visit(inner, path);
        return;
      }
      case 'unrecognized_keys': {
        const allowed = objectKeys(schemaAt(root, path, data)).filter((key) => key !== '$schema');
        for (const key of issue.keys) {
          const hint =
            didYouMean(key, allowed) ?? (allowed.length > 0 ? `allowed here: ${listNames(allowed, 20)}` : undefined);
          errors.push(source.problem([...path, key], `unknown key "${key}"`, { hint, at: 'key' }));
        }
        return;
      }
      case 'invalid_type': {
        const expected = describeExpected(issue.expected);
        if (value === undefined) {
          const name = path[path.length - 1];
          at(typeof name === 'string' ? `missing "${name}" (${expected})` : `missing: expected ${expected}`);
          return;
        }
        if (isDurationSchema(schemaAt(root, path, data))) {
          const hint =
            typeof value === 'number' ? `a bare number has no unit: write e.g. "${value}s" or "${value}m"` : undefined;
          at(`expected ${DURATION_TEXT}, got ${describe(value)}`, hint);
          return;
        }
        let hint: string | undefined;
        const quotedNumber = typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value));
        if (issue.expected === 'number' && quotedNumber) {
          hint = 'write the number without quotes';
        }
        at(`expected ${expected}, got ${describe(value)}`, hint);
        return;
      }
      case 'invalid_value': {
        const hint = typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : undefined;
        at(`expected ${describeChoices(issue.values)}, got ${describe(value)}`, hint);
        return;
      }
      case 'too_small':
      case 'too_big': {
        at(describeBound(issue, value));
        return;
      }
      case 'invalid_format': {
        const custom = !issue.message.startsWith('Invalid');
        let hint: string | undefined;
        if (isDurationSchema(schemaAt(root, path, data)) && typeof value === 'string') hint = durationHint(value);
        at(custom ? `expected ${issue.message}, got ${describe(value)}` : `${issue.message}, got ${describe(value)}`, hint);
        return;
      }
      case 'invalid_key': {
        const reasons = issue.issues.map((inner) => inner.message).join('; ');
        const key = path[path.length - 1];
        errors.push(source.problem(path, `key ${JSON.stringify(key)} is not allowed: expected ${reasons}`, { at: 'key' }));
        return;
      }
      case 'invalid_element': {
        for (const inner of issue.issues) visit(inner, path);
        return;
      }
      default:
        at(issue.message);
    }
  };

  for (const issue of issues) visit(issue, []);
  return errors;
}

/** A union of literals (like fn: 1|2|3|4) fails in every branch with a single value mismatch: merge them. */
function onlyLiteralMismatches(branches: readonly (readonly Issue[])[]): unknown[] | undefined {
  const values: unknown[] = [];
  for (const branch of branches) {
    const only = branch[0];
    if (branch.length !== 1 || !only || only.code !== 'invalid_value' || only.path.length > 0) return undefined;
    values.push(...only.values);
  }
  return values;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'string':
      return 'text';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'a mapping of "key: value" lines';
    case 'array':
      return 'a list of "- " items';
    default:
      return expected;
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

function describeChoices(values: readonly unknown[]): string {
  const shown = values.map((v) => JSON.stringify(v));
  return shown.length === 1 ? shown[0]! : `one of ${shown.join(', ')}`;
}

function describeBound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, value: unknown): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'array':
      return small
        ? `needs at least ${limit} ${limit === 1 ? 'entry' : 'entries'}`
        : `allows at most ${limit} ${limit === 1 ? 'entry' : 'entries'}`;
    case 'string':
      return small
        ? limit <= 1
          ? 'must not be empty'
          : `must be at least ${limit} characters`
        : `must be at most ${limit} characters`;
    default: {
      const relation = small ? (inclusive ? 'at least' : 'above') : inclusive ? 'at most' : 'below';
      return `must be ${relation} ${limit}, got ${describe(value)}`;
    }
  }
}

/** "5 min", "30sec", "30" → the spelling that would have been accepted. */
function durationHint(text: string): string | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? '').toLowerCase();
  const units: Record<string, string> = {
    '': 's',
    msec: 'ms',
    millis: 'ms',
    milliseconds: 'ms',
    sec: 's',
    secs: 's',
    second: 's',
    seconds: 's',
    min: 'm',
    mins: 'm',
    minute: 'm',
    minutes: 'm',
    hr: 'h',
    hrs: 'h',
    hour: 'h',
    hours: 'h',
    day: 'd',
    days: 'd',
  };
  const fixed = units[unit];
  if (fixed === undefined) return undefined;
  return unit === '' ? `a bare number has no unit: write e.g. "${match[1]}s"` : `did you mean "${match[1]}${fixed}"?`;
}
