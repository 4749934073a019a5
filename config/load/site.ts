import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Site } from '../schema/site.js';
import { site as siteSchema } from '../schema/site.js';
import type { ConfigError } from './config-error.js';
import { sortErrors } from './config-error.js';
import { listField } from './lenient.js';
import { shippedProfileDir } from './locate.js';
import type { LoadedProfile } from './profiles.js';
import { readText, scanProfileDirs } from './profiles.js';
import { checkSiteSemantics } from './site-checks.js';
import { parseYamlSource } from './yaml-source.js';
import { issuesToErrors } from './zod-issues.js';

export type CheckResult =
  | { ok: true; site: Site; profiles: Map<string, LoadedProfile>; warnings: ConfigError[] }
  | { ok: false; errors: ConfigError[]; warnings: ConfigError[] };

export interface LoadSiteOptions {
  /**
   * Extra profile folders (relative to the working directory), searched first: before the site's own
   * profileDirs and the shipped profiles.
   */
  profileDirs?: string[];
}

/** Reads and validates a site file and the profiles it uses; every problem is reported at once. */
export function loadSite(file: string, opts: LoadSiteOptions = {}): CheckResult {
  const text = readText(file);
  if (typeof text !== 'string') return { ok: false, errors: [text], warnings: [] };
  return loadSiteText(text, file, opts);
}

/** As loadSite, for a site file held in memory; `file` names it in errors and anchors relative profileDirs. */
export function loadSiteText(text: string, file: string, opts: LoadSiteOptions = {}): CheckResult {
  const source = parseYamlSource(text, file);
  if (source.syntaxErrors.length > 0) return { ok: false, errors: source.syntaxErrors, warnings: source.warnings };

  const data = source.data;
  const parsed = siteSchema.safeParse(data);
  const errors: ConfigError[] = parsed.success ? [] : issuesToErrors(parsed.error.issues, siteSchema, source);
  const warnings: ConfigError[] = [...source.warnings];

  const siteDir = dirname(resolve(file));
  const siteProfileDirs: string[] = [];
  listField(data, 'profileDirs').forEach((dir, index) => {
    if (typeof dir !== 'string' || dir === '') return;
    const absolute = resolve(siteDir, dir);
    if (isFolder(absolute)) siteProfileDirs.push(absolute);
    else {
      const hint = `looked for ${absolute}`;
      errors.push(source.problem(['profileDirs', index], `profile folder "${dir}" not found`, { hint }));
    }
  });
  const dirs = unique([...(opts.profileDirs ?? []).map((dir) => resolve(dir)), ...siteProfileDirs, shippedProfileDir()]);
  const scan = scanProfileDirs(dirs);
  errors.push(...scan.dirErrors);

  const findings = checkSiteSemantics(data, source, scan);
  errors.push(...findings.errors);
  warnings.push(...findings.warnings);

  if (!parsed.success || errors.length > 0) {
    return { ok: false, errors: sortErrors(errors), warnings: sortErrors(warnings) };
  }
  const profiles = new Map<string, LoadedProfile>(
    [...scan.profiles].map(([id, { profile, file }]) => [id, { profile, file }]),
  );
  return { ok: true, site: parsed.data, profiles, warnings: sortErrors(warnings) };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}
