/** "Did you mean": the closest known name to a misspelt one, or nothing when none is plausibly meant. */

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `wanted`, compared without case; only when the distance is small for the
 * word's length (1 for short words, else a third of it, at least 2), or when one name starts with the other;
 * unrelated names are not offered.
 */
export function closest(wanted: string, candidates: Iterable<string>): string | undefined {
  const target = wanted.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === wanted) continue;
    const distance = editDistance(target, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = wanted.length <= 3 ? 1 : Math.max(2, Math.floor(wanted.length / 3));
  if (bestDistance <= allowed) return best;
  return byPrefix(target, candidates);
}

/** "warning" → "warn", "conc" → "concentration": one name starts with the other (at least 3 letters). */
function byPrefix(target: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    const [shorter, longer] = lower.length <= target.length ? [lower, target] : [target, lower];
    if (shorter.length < 3 || !longer.startsWith(shorter)) continue;
    const gap = (name: string): number => Math.abs(name.length - target.length);
    if (best === undefined || gap(candidate) < gap(best)) best = candidate;
  }
  return best;
}

/** `did you mean "x"?` or undefined. */
export function didYouMean(wanted: string, candidates: Iterable<string>): string | undefined {
  const match = closest(wanted, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}

/** "a, b, c" — cut short after `max` names so a hint stays on one line. */
export function listNames(names: readonly string[], max = 12): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')}, … (${names.length - max} more)`;
}
