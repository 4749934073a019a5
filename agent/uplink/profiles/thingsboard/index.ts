import type { ThingsboardOptions } from '../../../../config/schema/index.js';
import type { BirthChannel, PlatformProfile, ProfileContext } from '../../profile.js';

/** Operator actions ThingsBoard RPC maps to. */
export const THINGSBOARD_ACTIONS: readonly string[] = ['acknowledge', 'set-baseline'];

export function createThingsboardProfile(ctx: ProfileContext, options: ThingsboardOptions, channels: readonly BirthChannel[]): PlatformProfile {
  void ctx;
  void options;
  void channels;
  throw new Error('the thingsboard profile is not built yet');
}
