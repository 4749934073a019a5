/** Profiles for the simulator tests: the shipped ones, parsed with the real schema, and small inline ones. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { profile, type Profile, type ProfileInput } from '../../config/schema/index.js';

const SHIPPED_DIR = join(import.meta.dirname, '..', '..', 'drivers', 'profiles');

export function shippedProfile(id: string): Profile {
  return profile.parse(parse(readFileSync(join(SHIPPED_DIR, `${id}.yaml`), 'utf8')));
}

export function shippedProfiles(...ids: string[]): Map<string, Profile> {
  return new Map(ids.map((id) => [id, shippedProfile(id)]));
}

export function inlineProfile(input: Omit<ProfileInput, 'name'> & { name?: string }): Profile {
  return profile.parse({ name: input.id, ...input });
}

/** Every 32-bit type in every byte order, 1-based addresses, on input registers. */
export const wideTypes = inlineProfile({
  id: 'wide-types',
  addressBase: 1,
  byteOrder: 'CDAB',
  registers: [
    { name: 'f_abcd', fn: 4, address: 1, type: 'f32', byteOrder: 'ABCD' },
    { name: 'f_cdab', fn: 4, address: 3, type: 'f32' },
    { name: 'f_badc', fn: 4, address: 5, type: 'f32', byteOrder: 'BADC' },
    { name: 'f_dcba', fn: 4, address: 7, type: 'f32', byteOrder: 'DCBA' },
    { name: 'u_abcd', fn: 4, address: 9, type: 'u32', byteOrder: 'ABCD' },
    { name: 's_dcba', fn: 4, address: 11, type: 's32', byteOrder: 'DCBA', scale: 0.01 },
    { name: 'flag', fn: 4, address: 13, type: 'bit', bit: 3 },
    { name: 'field', fn: 4, address: 13, type: 'bitfield', bits: '8-11' },
    { name: 'signed', fn: 4, address: 14, type: 's16', scale: 0.1, offset: -10 },
    { name: 'sum', compute: 'f_abcd + signed' },
  ],
});
