/**
 * Canonical JSON text of a parsed JSON value: object members sorted by key (UTF-16 code units), no whitespace,
 * strings and numbers as JSON.stringify writes them. For the values JSON can carry this is the JSON
 * Canonicalization Scheme (RFC 8785), so a platform in any language can produce the same bytes to sign.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonical JSON has no representation for a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
  }
  throw new Error(`canonical JSON has no representation for a ${typeof value}`);
}
