import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Logger } from '../../agent/log/index.js';
import { Uplink, type TelemetryPayload, type UplinkOptions, type UplinkTraceEvent } from '../../agent/uplink/index.js';
import type { TestBroker } from '../support/broker.js';
import { InMemoryOutbox } from './memory-outbox.js';

export const SITE = 'site1';
export const GATEWAY = 'gw-test';
export const PREFIX = 'vigil';
export const BASE = `${PREFIX}/${SITE}/${GATEWAY}`;

/** Polls a condition (not a timing assertion: the timeout only turns a hang into a readable failure). */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- schemas

export type SchemaName = 'telemetry' | 'event' | 'state' | 'command' | 'command-result';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validators = new Map<SchemaName, ValidateFunction>();

export function schema(name: SchemaName): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    const text = readFileSync(new URL(`../../docs/schemas/${name}.json`, import.meta.url), 'utf8');
    validate = ajv.compile(JSON.parse(text) as object);
    validators.set(name, validate);
  }
  return validate;
}

/** Throws with ajv's errors when the value does not match the schema. */
export function expectValid(name: SchemaName, value: unknown): void {
  const validate = schema(name);
  if (!validate(value)) throw new Error(`${name} payload does not match docs/schemas/${name}.json: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
}

export function schemaFor(topic: string): SchemaName | undefined {
  if (topic.endsWith('/telemetry')) return 'telemetry';
  if (topic.endsWith('/events')) return 'event';
  if (topic.endsWith('/state')) return 'state';
  if (topic.endsWith('/command/result')) return 'command-result';
  if (topic.endsWith('/command')) return 'command';
  return undefined;
}

// ---------------------------------------------------------------- a platform-side subscriber

export interface Received {
  topic: string;
  body: Record<string, unknown>;
  retain: boolean;
}

export interface WireReading {
  seq: number;
  channel: string;
  historical: boolean;
  [key: string]: unknown;
}

/** The platform's side: subscribes straight to the broker (not through any fault proxy) and keeps everything. */
export class Subscriber {
  readonly messages: Received[] = [];
  /** Messages that were not JSON or did not match their schema (each test expects none). */
  readonly invalid: string[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      if (topic.endsWith('/command')) return; // the platform's own commands, some garbage on purpose
      try {
        const body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
        const name = schemaFor(topic);
        if (name) expectValid(name, body);
        this.messages.push({ topic, body, retain: packet.retain });
      } catch (error) {
        this.invalid.push(`${topic}: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  static async connect(broker: TestBroker, filters: string[] = [`${BASE}/#`], clientId = `platform-${Math.random().toString(16).slice(2)}`): Promise<Subscriber> {
    const client = connect(broker.url, { clientId, protocolVersion: broker.protocolVersion, reconnectPeriod: 0, clean: true });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(filters, { qos: 1 });
    return new Subscriber(client);
  }

  on(topicSuffix: string): Received[] {
    return this.messages.filter((m) => m.topic === `${BASE}/${topicSuffix}`);
  }

  readings(): WireReading[] {
    return this.on('telemetry').flatMap((m) => m.body.readings as WireReading[]);
  }

  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
    if (this.invalid.length > 0) throw new Error(`invalid messages on the wire:\n${this.invalid.join('\n')}`);
  }
}

// ---------------------------------------------------------------- data

export const clock = {
  stamp: () => ({ wallTs: Date.now(), monoTs: performance.now(), clockSynced: true }),
};

export function reading(channel: string, value: number | null, extra: Partial<TelemetryPayload> = {}): TelemetryPayload {
  return {
    channelId: channel,
    deviceId: channel.split('.')[0] ?? channel,
    value,
    unit: 'ppm',
    quality: value === null ? 'bad' : 'good',
    ...(value === null ? { reason: 'timeout' as const } : {}),
    ...extra,
  };
}

export function appendReadings(outbox: InMemoryOutbox, count: number, channel = 'tank1.h2s'): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) seqs.push(outbox.append('telemetry', reading(channel, i % 50), clock.stamp()).seq);
  return seqs;
}

// ---------------------------------------------------------------- logs

export function captureLogs(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: ['password', '*.password', 'key', '*.key'], censor: '[redacted]' } }, stream);
  return { logger, text: () => chunks.join('') };
}

export const quietLogger = (): Logger => pino({ level: 'silent' });

// ---------------------------------------------------------------- uplink

export interface TestUplink {
  uplink: Uplink;
  outbox: InMemoryOutbox;
  trace: UplinkTraceEvent[];
}

export function makeUplink(url: string, broker: TestBroker, overrides: Partial<UplinkOptions> = {}, outbox = new InMemoryOutbox()): TestUplink {
  const trace: UplinkTraceEvent[] = [];
  const uplink = new Uplink({
    gatewayId: GATEWAY,
    siteId: SITE,
    topicPrefix: PREFIX,
    broker: { url, protocolVersion: broker.protocolVersion, keepaliveSec: 5, connectTimeoutMs: 3000 },
    outbox,
    clock,
    logger: quietLogger(),
    birth: { version: '0.1.0-test', configHash: 'sha256:abc', channels: [{ id: 'tank1.h2s', deviceId: 'tank1', indicator: 'H2S', unit: 'ppm' }] },
    reconnect: { minDelayMs: 50, maxDelayMs: 400, stableAfterMs: 2000 },
    ...overrides,
    trace: (event) => {
      trace.push(event);
      overrides.trace?.(event);
    },
  });
  return { uplink, outbox, trace };
}
