import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings as AgentSettings, Site } from '../../config/index.js';
import type { Clock } from '../clock/index.js';
import type { CommandHandler } from '../commands/index.js';
import type { Logger } from '../log/index.js';
import { openOutbox, type Outbox } from '../outbox/index.js';
import type { ReadingStream } from '../readings/index.js';
import type { SafetyEventLog } from '../safety/index.js';
import { Recorder, Secret, Uplink, readBrokerCredentials, type PushConfigHandler } from '../uplink/index.js';

export interface UplinkParts {
  outbox: Outbox;
  recorder: Recorder;
  uplink: Uplink | undefined;
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
      const correction = offset - unsyncedOffset;
      unsyncedOffset = undefined;
      if (Math.abs(correction) > 1000) {
        outbox.correctClock(correction);
        log.info({ correctionMs: correction }, 'clock synchronised: earlier readings get corrected wall times');
      }
    }
  }, 1000);
  clockWatch.unref();

  let uplink: Uplink | undefined;
  const mqtt = settings.mqtt;
  if (mqtt.url) {
    const credentials = readBrokerCredentials({
      ...(mqtt.usernameFile ? { usernameFile: mqtt.usernameFile } : {}),
      ...(mqtt.passwordFile ? { passwordFile: mqtt.passwordFile } : {}),
      ...(mqtt.caFile ? { caFile: mqtt.caFile } : {}),
      ...(mqtt.certFile ? { certFile: mqtt.certFile } : {}),
      ...(mqtt.keyFile ? { keyFile: mqtt.keyFile } : {}),
    });
    const hmacKey = mqtt.hmacKeyFile ? new Secret(readFileSync(mqtt.hmacKeyFile)) : undefined;
    uplink = new Uplink({
      gatewayId: settings.gatewayId ?? site.site.id,
      siteId: site.site.id,
      broker: { url: mqtt.url, protocolVersion: mqtt.protocol === '3.1.1' ? 4 : 5, credentials },
      outbox,
      clock,
      logger: log,
      topicPrefix: mqtt.topicPrefix,
      birth: {
        version: wiring.version,
        configHash: configHash(site),
        channels: site.devices.flatMap((device) =>
          device.channels.map((channel) => ({
            id: channel.id,
            deviceId: device.id,
            ...(channel.indicator ? { indicator: channel.indicator } : {}),
            ...(channel.unit ? { unit: channel.unit } : {}),
            ...(channel.name ? { name: channel.name } : {}),
          })),
        ),
      },
      commands: {
        handler: wiring.commands,
        ...(wiring.pushConfig ? { pushConfig: wiring.pushConfig } : {}),
        ...(hmacKey ? { hmacKey } : {}),
        requireSignature: hmacKey ? mqtt.requireSignature : 'never',
        ...(wiring.restoreCommands === undefined ? {} : { restore: wiring.restoreCommands }),
        onStateChange: wiring.stateChanged,
      },
    });
    uplink.start();
  } else {
    log.warn('no broker configured (VIGIL_MQTT_URL): readings and events are kept in the outbox, not sent');
  }

  return {
    outbox,
    recorder,
    uplink,
    snapshot: () => uplink?.snapshot(),
    async stop() {
      clearInterval(clockWatch);
      detach();
      await uplink?.stop();
      await outbox.close();
    },
  };
}

