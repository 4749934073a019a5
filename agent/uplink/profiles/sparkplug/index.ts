import type { SparkplugOptions } from '../../../../config/schema/index.js';
import type { BirthChannel, PlatformProfile, ProfileContext } from '../../profile.js';

/** Operator actions Sparkplug NCMD/DCMD can express here. */
export const SPARKPLUG_ACTIONS: readonly string[] = ['acknowledge', 'force', 'release'];

export function createSparkplugProfile(ctx: ProfileContext, options: SparkplugOptions, channels: readonly BirthChannel[]): PlatformProfile {
  void ctx;
  void options;
  void channels;
  throw new Error('the sparkplug profile is not built yet');
}
