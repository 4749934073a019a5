import type { OutputSnapshot, OutputSnapshotEntry } from './types.js';

/**
 * The persisted state comes back from disk: an entry that is not what this version wrote is ignored (the output
 * then starts as if it had never run) rather than trusted.
 */
export function restoredEntry(snapshot: OutputSnapshot | undefined, outputId: string): OutputSnapshotEntry | undefined {
  if (!snapshot || snapshot.version !== 1 || typeof snapshot.outputs !== 'object' || snapshot.outputs === null) return undefined;
  const entry: unknown = Object.hasOwn(snapshot.outputs, outputId) ? snapshot.outputs[outputId] : undefined;
  if (!isRecord(entry)) return undefined;
  const commanded = entry['commanded'];
  if (commanded !== null && typeof commanded !== 'boolean') return undefined;
  const cause = typeof entry['cause'] === 'string' ? entry['cause'] : 'unknown';
  const override = entry['override'];
  if (
    isRecord(override) &&
    (override['state'] === 'on' || override['state'] === 'off') &&
    typeof override['remainingMs'] === 'number' &&
    Number.isFinite(override['remainingMs']) &&
    override['remainingMs'] > 0 &&
    typeof override['by'] === 'string'
  ) {
    return { commanded, cause, override: { state: override['state'], remainingMs: override['remainingMs'], by: override['by'] } };
  }
  return { commanded, cause };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
