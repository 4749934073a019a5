import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Profile } from '../schema/profile.js';
import { profile as profileSchema } from '../schema/profile.js';
import type { ConfigError } from './config-error.js';
import { sortErrors } from './config-error.js';
import { textField } from './lenient.js';
import { checkProfileSemantics } from './profile-checks.js';
import type { YamlSource } from './yaml-source.js';
import { parseYamlSource } from './yaml-source.js';
import { issuesToErrors } from './zod-issues.js';

export interface LoadedProfile {
  profile: Profile;
  file: string;
}

export type ProfileCheck = { ok: true; profile: Profile } | { ok: false; errors: ConfigError[] };

/** Validates one profile held in memory: YAML syntax, then the schema and the semantic checks together. */
export function checkProfileText(text: string, file: string): ProfileCheck {
  return inspectProfile(text, file).result;
}

/** Validates one profile file, with the same errors `vigil check` gives for a site. */
export function checkProfileFile(file: string): ProfileCheck {
  const text = readText(file);
  if (typeof text !== 'string') return { ok: false, errors: [text] };
  return checkProfileText(text, file);
}

function inspectProfile(text: string, file: string): { result: ProfileCheck; source: YamlSource } {
  const source = parseYamlSource(text, file);
  if (source.syntaxErrors.length > 0) return { result: { ok: false, errors: source.syntaxErrors }, source };
  const parsed = profileSchema.safeParse(source.data);
  const errors = [
    ...(parsed.success ? [] : issuesToErrors(parsed.error.issues, profileSchema, source)),
    ...checkProfileSemantics(source.data, source),
  ];
  if (!parsed.success || errors.length > 0) return { result: { ok: false, errors: sortErrors(errors) }, source };
  return { result: { ok: true, profile: parsed.data }, source };
}

/** A profile file that could not be used, kept so a site that needs it can say why. */
export interface RejectedProfile {
  file: string;
  /** Its id as written (or its file name when even that is unreadable). */
  id: string;
  dirIndex: number;
  errors: ConfigError[];
}

export interface ProfileScan {
  profiles: Map<string, LoadedProfile & { dirIndex: number }>;
  /** Folders that could not be read. */
  dirErrors: ConfigError[];
  rejected: RejectedProfile[];
  /** Every error above, in the order folders and files were read. */
  errors: ConfigError[];
}

/**
 * Reads every *.yaml / *.yml in the folders. An id found in an earlier folder wins over a later one (a site's
 * own profiles override the shipped ones); the same id twice in one folder is an error.
 */
export function scanProfileDirs(dirs: readonly string[]): ProfileScan {
  const scan: ProfileScan = { profiles: new Map(), dirErrors: [], rejected: [], errors: [] };
  const reject = (rejected: RejectedProfile): void => {
    scan.rejected.push(rejected);
    scan.errors.push(...rejected.errors);
  };
  dirs.forEach((dir, dirIndex) => {
    const files = listProfileFiles(dir);
    if (!Array.isArray(files)) {
      scan.dirErrors.push(files);
      scan.errors.push(files);
      return;
    }
    const seenHere = new Map<string, string>();
    for (const file of files) {
      const text = readText(file);
      if (typeof text !== 'string') {
        reject({ file, id: basename(file, extname(file)), dirIndex, errors: [text] });
        continue;
      }
      const { result: checked, source } = inspectProfile(text, file);
      if (!checked.ok) {
        const id = textField(source.data, 'id') ?? basename(file, extname(file));
        reject({ file, id, dirIndex, errors: checked.errors });
        continue;
      }
      const { id } = checked.profile;
      const firstHere = seenHere.get(id);
      if (firstHere !== undefined) {
        reject({
          file,
          id,
          dirIndex,
          errors: [
            source.problem(['id'], `profile id "${id}" is also used by ${firstHere}`, {
              hint: 'each profile needs its own id',
            }),
          ],
        });
        continue;
      }
      seenHere.set(id, file);
      if (!scan.profiles.has(id)) scan.profiles.set(id, { profile: checked.profile, file, dirIndex });
    }
  });
  return scan;
}

/** Loads the driver profiles of the folders; every problem of every file is in `errors`. */
export function loadProfiles(dirs: string[]): { profiles: Map<string, LoadedProfile>; errors: ConfigError[] } {
  const scan = scanProfileDirs(dirs);
  const profiles = new Map<string, LoadedProfile>(
    [...scan.profiles].map(([id, { profile, file }]) => [id, { profile, file }]),
  );
  return { profiles, errors: scan.errors };
}

function listProfileFiles(dir: string): string[] | ConfigError {
  try {
    if (!statSync(dir).isDirectory()) return wholeFile(dir, 'is not a folder (expected a folder of driver profiles)');
    return readdirSync(dir)
      .filter((name) => ['.yaml', '.yml'].includes(extname(name)))
      .sort()
      .map((name) => join(dir, name));
  } catch (error) {
    return wholeFile(dir, `cannot read the profile folder: ${describeFsError(error)}`);
  }
}

export function readText(file: string): string | ConfigError {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    return wholeFile(file, `cannot read the file: ${describeFsError(error)}`);
  }
}

function wholeFile(file: string, message: string): ConfigError {
  return { file, line: 0, column: 0, path: '', message };
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return (error as Error).message;
}
