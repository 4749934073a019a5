import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ConfigError } from '../../config/index.js';

export const fixtureProfiles = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'profiles');

/** 1-based line and column of the n-th (0-based) occurrence of `needle` in `text`. */
export function positionOf(text: string, needle: string, occurrence = 0): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i <= occurrence; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" (occurrence ${occurrence}) not in the text`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** The single error at `path`; fails the test when there is none or more than one. */
export function errorAt(errors: readonly ConfigError[], path: string): ConfigError {
  const found = errors.filter((e) => e.path === path);
  expect(found, `errors at ${path} among:\n${errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`).toHaveLength(1);
  return found[0]!;
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
