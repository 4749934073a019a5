import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { profile, type Profile } from '../../config/schema/index.js';

const PROFILE_DIR = fileURLToPath(new URL('../../drivers/profiles/', import.meta.url));

/** The shipped profiles, parsed by the schema alone (the fuller loader has its own tests). */
export function shippedProfiles(): Map<string, Profile> {
  const profiles = new Map<string, Profile>();
  for (const file of readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.yaml'))) {
    const parsed = profile.parse(parse(readFileSync(PROFILE_DIR + file, 'utf8')));
    profiles.set(parsed.id, parsed);
  }
  return profiles;
}

export function shippedProfile(id: string): Profile {
  const found = shippedProfiles().get(id);
  if (!found) throw new Error(`no shipped profile ${id}`);
  return found;
}
