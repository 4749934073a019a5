/**
 * Numbers and durations as a technician reads them in a rule text: "20 %LEL", "for 5 s", "over 1 h".
 * Only used when a rule is built or an event is raised, never per reading.
 */

/** At most six significant digits, no trailing zeros, no binary noise ("0.30000000000000004" → "0.3"). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/** "20 %LEL", or "20" when the unit is unknown. */
export function withUnit(value: number, unit: string): string {
  return unit === '' ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

const UNITS: ReadonlyArray<readonly [number, string]> = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
];

/** The largest unit the duration is a whole number of: 5000 → "5 s", 5_400_000 → "90 min", 1500 → "1500 ms". */
export function formatDuration(ms: number): string {
  for (const [size, name] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size} ${name}`;
  if (ms >= 1000) return `${formatNumber(ms / 1000)} s`;
  return `${formatNumber(ms)} ms`;
}
