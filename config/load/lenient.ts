/**
 * Reading fields out of data that may not have passed the schema, so the semantic checks can still run on
 * every part that is well-formed and all problems are reported in one go. A field of the wrong type reads
 * as absent: the schema has already reported it.
 */

export type Fields = Record<string, unknown>;

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function fieldsOf(value: unknown): Fields {
  return isFields(value) ? value : {};
}

export function textField(object: unknown, key: string): string | undefined {
  const value = fieldsOf(object)[key];
  return typeof value === 'string' ? value : undefined;
}

export function numberField(object: unknown, key: string): number | undefined {
  const value = fieldsOf(object)[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function listField(object: unknown, key: string): unknown[] {
  const value = fieldsOf(object)[key];
  return Array.isArray(value) ? value : [];
}

export function has(object: unknown, key: string): boolean {
  return isFields(object) && object[key] !== undefined;
}
