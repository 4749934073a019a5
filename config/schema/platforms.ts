import { z } from 'zod';
import { identifier } from './common.js';
import { platformBroker, platformCommands } from './platforms/broker.js';
import { geohazardOptions } from './platforms/geohazard.js';
import { iotdaOptions } from './platforms/iotda.js';
import { nativeOptions } from './platforms/native.js';
import { sparkplugOptions } from './platforms/sparkplug.js';
import { thingsboardOptions } from './platforms/thingsboard.js';

/**
 * The platforms this gateway reports to. Each has its own broker connection and its own cursor in the one
 * outbox: a platform that is down keeps its backlog while the others stay current.
 */
const tag = <const T extends string>(name: T) =>
  z.literal(name).meta({
    description: 'The protocol: native (docs/platform.md), sparkplug, geohazard, iotda or thingsboard (docs/platforms/<name>.md).',
  });

const common = {
  id: identifier.meta({ description: 'Unique among the platforms; names its outbox cursor (keep it stable).' }),
  broker: platformBroker,
  commands: platformCommands.prefault({}),
};

export const platform = z
  .discriminatedUnion('profile', [
    z.strictObject({ ...common, profile: tag('native'), native: nativeOptions.prefault({}) }),
    z.strictObject({ ...common, profile: tag('sparkplug'), sparkplug: sparkplugOptions }),
    z.strictObject({ ...common, profile: tag('geohazard'), geohazard: geohazardOptions }),
    z.strictObject({ ...common, profile: tag('iotda'), iotda: iotdaOptions }),
    z.strictObject({ ...common, profile: tag('thingsboard'), thingsboard: thingsboardOptions.prefault({}) }),
  ])
  .meta({ description: 'One platform: its protocol (profile), broker, commands, and the protocol options.' });

export type Platform = z.output<typeof platform>;
export type PlatformProfileName = Platform['profile'];

export { platformBroker, platformCommands, type PlatformBroker, type PlatformCommands } from './platforms/broker.js';
export { nativeOptions, type NativeOptions } from './platforms/native.js';
export { sparkplugOptions, type SparkplugOptions } from './platforms/sparkplug.js';
export {
  geohazardOptions,
  GEOHAZARD_CODE,
  GEOHAZARD_COMPONENTS,
  GEOHAZARD_MAPPING,
  parseGeohazardMapping,
  type GeohazardOptions,
} from './platforms/geohazard.js';
export { iotdaOptions, type IotdaOptions } from './platforms/iotda.js';
export { thingsboardOptions, type ThingsboardOptions } from './platforms/thingsboard.js';
