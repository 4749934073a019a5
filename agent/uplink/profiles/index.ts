/**
 * The platform protocols. Each profile is one folder implementing PlatformProfile (../profile.ts) over the
 * shared outbox, window, reconnects and command gate; platformProfile() picks one from a site's platforms entry.
 */
import type { Platform } from '../../../config/schema/index.js';
import { readBrokerCredentials, type BrokerCredentials } from '../credentials.js';
import type { BirthChannel, PlatformProfile, ProfileContext } from '../profile.js';
import { createGeohazardProfile, GEOHAZARD_ACTIONS } from './geohazard/index.js';
import { createIotdaProfile, IOTDA_ACTIONS } from './iotda/index.js';
import { createNativeProfile } from './native.js';
import { createSparkplugProfile, SPARKPLUG_ACTIONS } from './sparkplug/index.js';
import { createThingsboardProfile, THINGSBOARD_ACTIONS } from './thingsboard/index.js';

export interface PlatformSetup {
  factory: (ctx: ProfileContext) => PlatformProfile;
  /** Actions the platform may run unless the config narrows or widens them; absent: all. */
  defaultActions?: readonly string[];
  /** The MQTT client id the protocol requires, when it requires one. */
  clientId?: string;
  topicPrefix?: string;
}

export function platformSetup(platform: Platform, channels: readonly BirthChannel[]): PlatformSetup {
  switch (platform.profile) {
    case 'native':
      return { factory: createNativeProfile, topicPrefix: platform.native.topicPrefix };
    case 'sparkplug':
      return {
        factory: (ctx) => createSparkplugProfile(ctx, platform.sparkplug, channels),
        defaultActions: SPARKPLUG_ACTIONS,
      };
    case 'geohazard':
      return {
        factory: (ctx) => createGeohazardProfile(ctx, platform.geohazard, channels),
        defaultActions: GEOHAZARD_ACTIONS,
        clientId: platform.geohazard.deviceId,
      };
    case 'iotda':
      return {
        factory: (ctx) => createIotdaProfile(ctx, platform.iotda, channels),
        defaultActions: IOTDA_ACTIONS,
      };
    case 'thingsboard':
      return {
        factory: (ctx) => createThingsboardProfile(ctx, platform.thingsboard, channels),
        defaultActions: THINGSBOARD_ACTIONS,
      };
  }
}

/** Protocols that log in with a key alone and derive the user name at connect (a device id). */
export const DERIVED_LOGIN: ReadonlySet<Platform['profile']> = new Set(['geohazard', 'iotda']);

/**
 * A listed platform's broker credentials, read once from its files: never from the environment, which belongs to
 * the default uplink of the settings. Throws CredentialsError naming the file that cannot be read.
 */
export function readPlatformCredentials(platform: Platform): BrokerCredentials {
  const broker = platform.broker;
  return readBrokerCredentials({
    ...(broker.usernameFile ? { usernameFile: broker.usernameFile } : {}),
    ...(broker.passwordFile ? { passwordFile: broker.passwordFile } : {}),
    ...(broker.caFile ? { caFile: broker.caFile } : {}),
    ...(broker.certFile ? { certFile: broker.certFile } : {}),
    ...(broker.keyFile ? { keyFile: broker.keyFile } : {}),
    env: {},
    allowPasswordOnly: DERIVED_LOGIN.has(platform.profile),
  });
}
