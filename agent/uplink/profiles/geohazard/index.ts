import type { GeohazardOptions } from '../../../../config/schema/index.js';
import type { BirthChannel, PlatformProfile, ProfileContext } from '../../profile.js';

/** Operator actions the geohazard commands map to (setInitial → set-baseline). */
export const GEOHAZARD_ACTIONS: readonly string[] = ['set-baseline'];

export function createGeohazardProfile(ctx: ProfileContext, options: GeohazardOptions, channels: readonly BirthChannel[]): PlatformProfile {
  void ctx;
  void options;
  void channels;
  throw new Error('the geohazard profile is not built yet');
}
