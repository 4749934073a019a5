import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { device, profile, type Device, type Profile, type ProfileInput } from '../../config/schema/index.js';
import type { TransactionOutcome } from '../../drivers/modbus/index.js';
import type { ClockStamp } from '../../drivers/reading.js';

export const PROFILE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../drivers/profiles');

export function loadShippedProfile(id: string): Profile {
  return profile.parse(YAML.parse(readFileSync(join(PROFILE_DIR, `${id}.yaml`), 'utf8')));
}

/** A profile written inline in a test, with the schema's defaults filled in. */
export function inlineProfile(input: Omit<ProfileInput, 'id' | 'name'> & { id?: string }): Profile {
  return profile.parse({ id: 'test-profile', name: 'Test profile', ...input });
}

/** A site device with the schema's defaults; channels as { id: register } or full channel objects. */
export function siteDevice(profileId: string, channels: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Device {
  return device.parse({ id: 'dev1', bus: 'bus1', unit: 1, profile: profileId, channels, ...extra });
}

export const STAMP: ClockStamp = { wallTs: 1_700_000_000_000, monoTs: 12_345, clockSynced: true };

export function registers(...words: number[]): TransactionOutcome {
  return { ok: true, registers: words };
}

export function bits(...values: Array<0 | 1>): TransactionOutcome {
  return { ok: true, bits: values.map((v) => v === 1) };
}
