import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings as AgentSettings, Site } from '../../config/index.js';
import type { Platform } from '../../config/schema/index.js';
import type { Clock } from '../clock/index.js';
import type { CommandHandler } from '../commands/index.js';
import type { Logger } from '../log/index.js';
import { openCursors, openOutbox, type Outbox, type OutboxCursor, type OutboxCursors } from '../outbox/index.js';
import type { ReadingStream } from '../readings/index.js';
import type { SafetyEventLog } from '../safety/index.js';
import {
  Recorder,
  Secret,
  Uplink,
  readBrokerCredentials,
  type BirthChannel,
  type LatestValue,
  type OutboxReader,
  type PushConfigHandler,
} from '../uplink/index.js';
import { platformSetup, readPlatformCredentials } from '../uplink/profiles/index.js';

/** One platform the gateway reports to. */
export interface PlatformLink {
  id: string;
  profile: string;
  uplink: Uplink;
  /** Its own position in the outbox, when the gateway feeds several platforms. */
  cursor: OutboxCursor | undefined;
}

export interface UplinkParts {
  outbox: Outbox;
  recorder: Recorder;
  /** The first platform's uplink (the only one on most gateways). */
  uplink: Uplink | undefined;
  platforms: readonly PlatformLink[];
  /** The command memory (recent ids) to persist with the rest of the state. */
  snapshot(): unknown;
  stop(): Promise<void>;
}

export interface UplinkWiring {
  site: Site;
  settings: AgentSettings;
  version: string;
  clock: Clock;
  logger: Logger;
  stream: ReadingStream;
  events: SafetyEventLog;
  commands: CommandHandler;
  isAccelerated: (deviceId: string) => boolean;
  restoreCommands: unknown;
  stateChanged: () => void;
  /** Handles a whole new site config pushed by the platform; absent: push-config is refused. */
  pushConfig?: PushConfigHandler;
  /** The latest reading of every channel (births, on-demand reports). */
  latest?: () => readonly LatestValue[];
  /** Polls every device now (a platform's "sample" request). */
  requestSample?: () => boolean;
}

/** Remembered command ids per platform (each platform's ids are its own). */
interface PlatformCommandMemory {
  version: 'platforms';
  byPlatform: Record<string, unknown>;
}

function isPlatformMemory(value: unknown): value is PlatformCommandMemory {
  return typeof value === 'object' && value !== null && (value as { version?: unknown }).version === 'platforms';
}

/** A stable digest of the site as loaded: the platform sees in the birth message which config is running. */
function configHash(site: Site): string {
  return createHash('sha256').update(JSON.stringify(site)).digest('hex').slice(0, 16);
}

/**
 * Readings and events → recorder (reporting policy) → durable outbox → uplink (when a broker is configured).
 * The outbox is kept even without a broker, so nothing is lost while the uplink is being configured.
 */
export async function startUplink(wiring: UplinkWiring): Promise<UplinkParts> {
  const { site, settings, logger, clock } = wiring;
  const log = logger.child({ part: 'uplink' });
  const outbox = await openOutbox({
    dir: join(settings.dataDir, 'outbox'),
    maxBytes: settings.outbox.maxBytes,
    flushIntervalMs: settings.outbox.flushIntervalMs,
    logger: logger.child({ part: 'outbox' }),
    onEvent: (event) => log.warn({ outbox: event.type }, event.detail),
  });

  const channels = site.devices.flatMap((device) => device.channels);
  const recorder = new Recorder({
    outbox,
    channels: channels.map((channel) => ({
      id: channel.id,
      ...(channel.indicator ? { indicator: channel.indicator } : {}),
      policy: {
        ...(channel.report?.deadband === undefined ? {} : { deadband: channel.report.deadband }),
        ...(channel.report?.heartbeat === undefined ? {} : { maxIntervalMs: channel.report.heartbeat }),
        ...(channel.report?.fastInterval === undefined ? {} : { acceleratedIntervalMs: channel.report.fastInterval }),
      },
    })),
    isAccelerated: wiring.isAccelerated,
    onError: (error) => log.error({ err: error }, 'recording failed'),
  });
  const detach = recorder.attach({ readings: wiring.stream, events: wiring.events });

  // Readings taken before NTP set the clock get corrected wall times: watch the offset between wall and monotonic time.
  let unsyncedOffset: number | undefined = clock.synced ? undefined : Date.now() - clock.now();
  const clockWatch = setInterval(() => {
    const offset = Date.now() - clock.now();
    if (!clock.synced) {
      unsyncedOffset = offset;
    } else if (unsyncedOffset !== undefined) {
      // Whole milliseconds: the offsets come from performance.now(), and wall times on the wire are integers.
      const correction = Math.round(offset - unsyncedOffset);
      unsyncedOffset = undefined;
      if (Math.abs(correction) > 1000) {
        outbox.correctClock(correction);
        log.info({ correctionMs: correction }, 'clock synchronised: earlier readings get corrected wall times');
      }
    }
  }, 1000);
  clockWatch.unref();

  const birthChannels: BirthChannel[] = site.devices.flatMap((device) =>
    device.channels.map((channel) => ({
      id: channel.id,
      deviceId: device.id,
      ...(channel.indicator ? { indicator: channel.indicator } : {}),
      ...(channel.unit ? { unit: channel.unit } : {}),
      ...(channel.name ? { name: channel.name } : {}),
    })),
  );
  const birth = { version: wiring.version, configHash: configHash(site), channels: birthChannels };
  const gatewayId = settings.gatewayId ?? site.site.id;
  const common = {
    gatewayId,
    siteId: site.site.id,
    clock,
    birth,
    skippedSeqs: () => outbox.stats().skippedSeqs,
    skippedRanges: () => outbox.stats().skippedRanges,
    ...(wiring.latest ? { latest: wiring.latest } : {}),
    ...(wiring.requestSample ? { requestSample: wiring.requestSample } : {}),
  };
  const commandBase = {
    handler: wiring.commands,
    ...(wiring.pushConfig ? { pushConfig: wiring.pushConfig } : {}),
    onStateChange: wiring.stateChanged,
  };

  const platforms: PlatformLink[] = [];
  let cursors: OutboxCursors | undefined;
  const mqtt = settings.mqtt;
  if (site.platforms && site.platforms.length > 0) {
    const list = site.platforms;
    if (list.length > 1) cursors = openCursors(outbox, join(settings.dataDir, 'outbox', 'cursors.json'), list.map((p) => p.id));
    const memory = isPlatformMemory(wiring.restoreCommands) ? wiring.restoreCommands.byPlatform : {};
    for (const platform of list) {
      const cursor = cursors?.cursor(platform.id);
      try {
        const uplink = platformUplink(platform, cursor ?? outbox, memory[platform.id]);
        platforms.push({ id: platform.id, profile: platform.profile, uplink, cursor });
      } catch (error) {
        // A platform that cannot be set up (an unreadable credential file) must not stop the field side or the
        // other platforms: its cursor keeps its records in the outbox until it is fixed.
        log.error({ platform: platform.id, error: error instanceof Error ? error.message : String(error) }, 'platform not started: its data is kept in the outbox');
      }
    }
  } else if (mqtt.url) {
    try {
      const credentials = readBrokerCredentials({
        ...(mqtt.usernameFile ? { usernameFile: mqtt.usernameFile } : {}),
        ...(mqtt.passwordFile ? { passwordFile: mqtt.passwordFile } : {}),
        ...(mqtt.caFile ? { caFile: mqtt.caFile } : {}),
        ...(mqtt.certFile ? { certFile: mqtt.certFile } : {}),
        ...(mqtt.keyFile ? { keyFile: mqtt.keyFile } : {}),
      });
      const hmacKey = mqtt.hmacKeyFile ? new Secret(readFileSync(mqtt.hmacKeyFile)) : undefined;
      const uplink = new Uplink({
        ...common,
        broker: { url: mqtt.url, protocolVersion: mqtt.protocol === '3.1.1' ? 4 : 5, credentials },
        outbox,
        logger: log,
        topicPrefix: mqtt.topicPrefix,
        commands: {
          ...commandBase,
          ...(hmacKey ? { hmacKey } : {}),
          requireSignature: hmacKey ? mqtt.requireSignature : 'never',
          ...(wiring.restoreCommands === undefined || isPlatformMemory(wiring.restoreCommands) ? {} : { restore: wiring.restoreCommands }),
        },
      });
      platforms.push({ id: 'native', profile: 'native', uplink, cursor: undefined });
    } catch (error) {
      // Same rule as for listed platforms: a broken uplink must not stop the field side; the outbox keeps the data.
      log.error({ error: error instanceof Error ? error.message : String(error) }, 'uplink not started: readings and events are kept in the outbox');
    }
  } else {
    log.warn('no broker configured (VIGIL_MQTT_URL or platforms in the site): readings and events are kept in the outbox, not sent');
  }
  for (const platform of platforms) platform.uplink.start();

  /** One site platforms entry → its uplink: its broker, its protocol, its cursor, its own command memory. */
  function platformUplink(platform: Platform, reader: OutboxReader, restore: unknown): Uplink {
    const broker = platform.broker;
    const credentials = readPlatformCredentials(platform);
    const setup = platformSetup(platform, birthChannels);
    const clientId = broker.clientId ?? setup.clientId;
    const allowed = platform.commands.allow ?? setup.defaultActions;
    return new Uplink({
      ...common,
      name: platform.id,
      ...(clientId ? { clientId } : {}),
      broker: {
        url: broker.url,
        protocolVersion: broker.protocol === '3.1.1' ? 4 : 5,
        credentials,
        keepaliveSec: broker.keepaliveSec,
      },
      outbox: reader,
      logger: log.child({ platform: platform.id }),
      ...(setup.topicPrefix ? { topicPrefix: setup.topicPrefix } : {}),
      profile: setup.factory,
      ...(platform.commands.enabled
        ? {
            commands: {
              ...commandBase,
              ...(allowed ? { allowedActions: allowed } : {}),
              // Platform protocols other than the native one cannot carry our signatures: limit their actions instead.
              requireSignature: 'never' as const,
              ...(restore === undefined ? {} : { restore }),
            },
          }
        : {}),
    });
  }

  return {
    outbox,
    recorder,
    uplink: platforms[0]?.uplink,
    platforms,
    snapshot: () => {
      if (!site.platforms || site.platforms.length === 0) return platforms[0]?.uplink.snapshot();
      const byPlatform: Record<string, unknown> = {};
      for (const platform of platforms) byPlatform[platform.id] = platform.uplink.snapshot() ?? null;
      return { version: 'platforms', byPlatform } satisfies PlatformCommandMemory;
    },
    async stop() {
      clearInterval(clockWatch);
      detach();
      await Promise.all(platforms.map((platform) => platform.uplink.stop()));
      await cursors?.close();
      await outbox.close();
    },
  };
}

