import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { CommandHandler, type AlarmCommands, type OutputCommands } from '../../agent/commands/index.js';
import { openOutbox, type Outbox } from '../../agent/outbox/index.js';
import { Uplink, type BirthChannel, type BrokerCredentials, type CommandOptions, type PlatformProfile, type ProfileContext, type TelemetryPayload } from '../../agent/uplink/index.js';
import type { TestBroker } from './broker.js';

/**
 * What the platform-profile tests share: a real outbox in a temporary folder, an Uplink running a profile
 * against the test broker, a plain MQTT client standing in for the platform (it keeps raw payloads: each test
 * parses the platform's format itself), and a command handler over recorded safety calls.
 */

export const testClock = {
  stamp: () => ({ wallTs: Date.now(), monoTs: performance.now(), clockSynced: true }),
};

export interface TempOutbox {
  outbox: Outbox;
  close(): Promise<void>;
}

export async function openTempOutbox(): Promise<TempOutbox> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-profile-outbox-'));
  const outbox = await openOutbox({ dir, maxBytes: 64 * 1024 * 1024, flushIntervalMs: 20 });
  return {
    outbox,
    async close() {
      await outbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ProfileUplinkOptions {
  broker: TestBroker;
  outbox: Outbox;
  profile: (ctx: ProfileContext) => PlatformProfile;
  channels: readonly BirthChannel[];
  commands?: CommandOptions;
  credentials?: BrokerCredentials;
  gatewayId?: string;
}

export function profileUplink(options: ProfileUplinkOptions): Uplink {
  return new Uplink({
    gatewayId: options.gatewayId ?? 'gw-test',
    siteId: 'site1',
    broker: {
      url: options.broker.url,
      protocolVersion: options.broker.protocolVersion,
      keepaliveSec: 5,
      connectTimeoutMs: 3000,
      ...(options.credentials ? { credentials: options.credentials } : {}),
    },
    outbox: options.outbox,
    clock: testClock,
    logger: pino({ level: 'silent' }),
    birth: { version: '1.2.3', configHash: 'cafe0123', channels: options.channels },
    reconnect: { minDelayMs: 50, maxDelayMs: 400, stableAfterMs: 2000 },
    profile: options.profile,
    ...(options.commands ? { commands: options.commands } : {}),
  });
}

export function gasReading(channelId: string, deviceId: string, value: number | null, extra: Partial<TelemetryPayload> = {}): TelemetryPayload {
  return {
    channelId,
    deviceId,
    value,
    unit: 'ppm',
    quality: value === null ? 'bad' : 'good',
    ...(value === null ? { reason: 'timeout' as const } : {}),
    ...extra,
  };
}

export interface RawMessage {
  topic: string;
  text: string;
  retain: boolean;
}

/** The platform side: a plain mqtt.js client on the broker; keeps every message as text, in arrival order. */
export class PlatformClient {
  readonly messages: RawMessage[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, text: payload.toString('utf8'), retain: packet.retain }));
  }

  static async connect(broker: TestBroker, filters: string[], options: { username?: string; password?: string } = {}): Promise<PlatformClient> {
    const client = connect(broker.url, {
      clientId: `platform-${Math.random().toString(16).slice(2)}`,
      protocolVersion: broker.protocolVersion,
      reconnectPeriod: 0,
      clean: true,
      ...options,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(filters, { qos: 1 });
    return new PlatformClient(client);
  }

  on(topic: string): RawMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** A command handler over recorded calls: channels and outputs it knows, the rest refused as unknown. */
export function recordingHandler(channels: readonly string[], outputs: readonly string[]): { handler: CommandHandler; calls: string[] } {
  const calls: string[] = [];
  const alarms: AlarmCommands = {
    acknowledge: (channel, by) => (calls.push(`acknowledge ${channel} by ${by}`), { acknowledged: [String(channel)] }),
    reset: (channel, by) => (calls.push(`reset ${channel} by ${by}`), { reset: [String(channel)], refused: [] }),
    setBaseline: (channel, by, value) => {
      // As the alarm engine answers for a channel it does not monitor.
      if (!channels.includes(channel)) return { ok: false, error: `no channel "${channel}"` };
      calls.push(`set-baseline ${channel}${value === undefined ? '' : ` ${value}`} by ${by}`);
      return { ok: true, baseline: value ?? 0 };
    },
    channel: (id) => (channels.includes(id) ? {} : undefined),
  };
  const outputCommands: OutputCommands = {
    force: (output, state, forMs, by) => {
      if (!outputs.includes(output)) return { ok: false, error: `no output "${output}"` };
      calls.push(`force ${output} ${state} ${forMs} by ${by}`);
      return { ok: true, until: forMs };
    },
    clearOverride: (output, by) => {
      if (!outputs.includes(output)) return { ok: false, error: `no output "${output}"` };
      calls.push(`release ${output} by ${by}`);
      return { ok: true };
    },
    silence: (by) => (calls.push(`silence by ${by}`), { silenced: [] }),
  };
  return { handler: new CommandHandler(alarms, outputCommands), calls };
}
