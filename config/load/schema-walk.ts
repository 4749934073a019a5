import type { z } from 'zod';
import { DURATION_PATTERN } from '../schema/common.js';
import type { PathSegment } from './config-error.js';

/**
 * Finding the part of a zod schema that applies at a path of the data, so errors can name the keys that were
 * allowed there and pick the variant of a union that the author evidently meant.
 */

type Schema = z.core.$ZodType;

interface Def {
  type: string;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  options?: readonly Schema[];
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  checks?: readonly { _zod: { def: { pattern?: unknown } } }[];
}

const defOf = (schema: Schema): Def => schema._zod.def as unknown as Def;

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** Strips optional/default/transform wrappers down to the schema that checks the value's shape. */
export function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

export function objectKeys(schema: Schema | undefined): string[] {
  if (!schema) return [];
  const def = defOf(unwrap(schema));
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

export function unionOptions(schema: Schema | undefined): readonly Schema[] {
  if (!schema) return [];
  const def = defOf(unwrap(schema));
  return def.type === 'union' && def.options ? def.options : [];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The union variant the author meant: the one sharing most keys with what was written (a "tcp:" key means
 * the TCP bus), then the one with fewest problems, then the first.
 */
export function chooseUnionOption(options: readonly Schema[], value: unknown, issueCounts?: readonly number[]): number {
  const counts =
    issueCounts ??
    options.map((option) => {
      const result = (option as z.ZodType).safeParse(value);
      return result.success ? 0 : result.error.issues.length;
    });
  const scores = options.map((option) => {
    if (!isPlainObject(value)) return 0;
    const keys = new Set(objectKeys(option));
    return Object.keys(value).filter((key) => keys.has(key)).length;
  });
  let best = 0;
  for (let i = 1; i < options.length; i++) {
    const better =
      scores[i]! > scores[best]! || (scores[i] === scores[best] && (counts[i] ?? 0) < (counts[best] ?? 0));
    if (better) best = i;
  }
  return best;
}

export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isPlainObject(current)) current = current[String(segment)];
    else return undefined;
  }
  return current;
}

/**
 * The schema that applies to the value at `path`, following the data through unions (a union at the end of
 * the path is resolved too, unless `keepUnion`); undefined off the map.
 */
export function schemaAt(
  root: Schema,
  path: readonly PathSegment[],
  data: unknown,
  keepUnion = false,
): Schema | undefined {
  let current: Schema | undefined = root;
  for (let depth = 0; depth <= path.length && current; depth++) {
    let inner = unwrap(current);
    const options = unionOptions(inner);
    if (options.length > 0 && !(keepUnion && depth === path.length)) {
      inner = unwrap(options[chooseUnionOption(options, valueAt(data, path.slice(0, depth)))]!);
    }
    if (depth === path.length) return inner;
    const segment = path[depth]!;
    const def = defOf(inner);
    if (def.type === 'object') current = def.shape?.[String(segment)];
    else if (def.type === 'array') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else current = undefined;
  }
  return undefined;
}

/** True for a duration field ("2s", "5m"), so a bare number there can get a "write 30s" hint. */
export function isDurationSchema(schema: Schema | undefined): boolean {
  if (!schema) return false;
  return (defOf(unwrap(schema)).checks ?? []).some((check) => {
    const pattern = check._zod.def.pattern;
    return pattern instanceof RegExp && pattern.source === DURATION_PATTERN.source;
  });
}
