/** Driver profiles for the technician commands: the shipped ones, an extra folder, or one file by path. */
import { existsSync } from 'node:fs';
import { checkProfileFile, formatErrors, loadProfiles, shippedProfileDir, type Profile } from '../../config/index.js';
import { EXIT_INVALID_INPUT, UsageError } from './exit-codes.js';

/** A profile the command cannot use: printed like `vigil check` errors, exit 2. */
export class InvalidProfileError extends Error {
  readonly exitCode = EXIT_INVALID_INPUT;
}

/** Shipped profiles, with those of `extraDir` first (a local profile overrides a shipped one of the same id). */
export function availableProfiles(extraDir?: string): Profile[] {
  const dirs = extraDir === undefined ? [shippedProfileDir()] : [extraDir, shippedProfileDir()];
  const { profiles, errors } = loadProfiles(dirs);
  if (extraDir !== undefined && errors.length > 0) {
    throw new InvalidProfileError(`profiles in ${extraDir} have errors:\n${formatErrors(errors, { color: false })}`);
  }
  return [...profiles.values()].map((entry) => entry.profile);
}

/** `--profile` as an id of an available profile, or a path to a profile file (a draft being tested). */
export function resolveProfile(nameOrPath: string, extraDir?: string): Profile {
  const looksLikeFile = /\.ya?ml$/i.test(nameOrPath) || nameOrPath.includes('/');
  if (looksLikeFile) {
    if (!existsSync(nameOrPath)) throw new UsageError(`--profile ${nameOrPath}: no such file`);
    const checked = checkProfileFile(nameOrPath);
    if (!checked.ok) throw new InvalidProfileError(`${nameOrPath} is not a valid profile:\n${formatErrors(checked.errors, { color: false })}`);
    return checked.profile;
  }
  const profiles = availableProfiles(extraDir);
  const found = profiles.find((p) => p.id === nameOrPath);
  if (!found) {
    throw new UsageError(`--profile ${nameOrPath}: no such profile (known: ${profiles.map((p) => p.id).join(', ')})`);
  }
  return found;
}
