import type { IotdaOptions } from '../../../../config/schema/index.js';
import type { BirthChannel, PlatformProfile, ProfileContext } from '../../profile.js';

/** Operator actions IoTDA commands map to. */
export const IOTDA_ACTIONS: readonly string[] = ['acknowledge', 'set-baseline'];

export function createIotdaProfile(ctx: ProfileContext, options: IotdaOptions, channels: readonly BirthChannel[]): PlatformProfile {
  void ctx;
  void options;
  void channels;
  throw new Error('the iotda profile is not built yet');
}
