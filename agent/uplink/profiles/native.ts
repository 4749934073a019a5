import { canonicalJson } from '../canonical-json.js';
import { eventFields } from './event-fields.js';
import type { EventDelivery, TelemetryDelivery } from '../payloads.js';
import type {
  BirthInfo,
  CommandOutcome,
  DecodedCommand,
  GateInput,
  OutgoingMessage,
  PlatformProfile,
  ProfileIdentity,
  StateStamp,
} from '../profile.js';

/**
 * The native profile: Vigil's own JSON contract (docs/platform.md, docs/schemas/). Every payload carries
 * "v": 1; a change that breaks a consumer bumps it.
 */
export const NATIVE_VERSION = 1;

/** The prefix of the text a command signature is computed over (see docs/platform.md, "Signatures"). */
export const SIGNATURE_DOMAIN = 'vigil-command-v1';

const JSON_TYPE = 'application/json';
const ENVELOPE_FIELDS = new Set(['v', 'id', 'expiresAt', 'issuedAt', 'ttl', 'command', 'sig']);
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

export interface NativeTopics {
  telemetry: string;
  events: string;
  state: string;
  command: string;
  commandResult: string;
}

export function nativeTopics(ctx: ProfileIdentity): NativeTopics {
  const base = `${ctx.topicPrefix}/${ctx.siteId}/${ctx.gatewayId}`;
  return {
    telemetry: `${base}/telemetry`,
    events: `${base}/events`,
    state: `${base}/state`,
    command: `${base}/command`,
    commandResult: `${base}/command/result`,
  };
}

/** The text an HMAC signature covers: domain, topic (binds it to this gateway) and the canonical message without "sig". */
export function nativeSignedText(topic: string, envelopeWithoutSig: Record<string, unknown>): string {
  return `${SIGNATURE_DOMAIN}\n${topic}\n${canonicalJson(envelopeWithoutSig)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function json(topic: string, body: unknown, retain = false): OutgoingMessage {
  return { topic, payload: Buffer.from(JSON.stringify(body)), retain, contentType: JSON_TYPE };
}

/** The native profile always answers with exactly one message. */
export interface NativeProfile extends PlatformProfile {
  encodeTelemetry(batch: readonly TelemetryDelivery[]): OutgoingMessage;
  encodeEvent(event: EventDelivery): OutgoingMessage;
  encodeBirth(birth: BirthInfo): OutgoingMessage;
  encodeShutdown(stamp: StateStamp): OutgoingMessage;
  decodeCommand(topic: string, payload: Buffer): GateInput;
  encodeCommandResult(outcome: CommandOutcome): OutgoingMessage;
}

export function createNativeProfile(ctx: ProfileIdentity): NativeProfile {
  const topics = nativeTopics(ctx);
  const who = { site: ctx.siteId, gateway: ctx.gatewayId };

  const reading = (d: TelemetryDelivery): Record<string, unknown> => ({
    seq: d.seq,
    channel: d.reading.channelId,
    device: d.reading.deviceId,
    ...(d.reading.indicator === undefined ? {} : { indicator: d.reading.indicator }),
    value: d.reading.value,
    unit: d.reading.unit,
    quality: d.reading.quality,
    ...(d.reading.reason === undefined ? {} : { reason: d.reading.reason }),
    ...(d.reading.detail === undefined ? {} : { detail: d.reading.detail }),
    ts: d.ts,
    clock: d.clock,
    historical: d.historical,
  });

  const decodeFailure = (topic: string, id: string | null, error: string, action?: string): GateInput => ({
    ok: false,
    id,
    error,
    topic,
    ...(action === undefined ? {} : { action }),
  });

  return {
    name: 'native',
    commandSubscriptions: [topics.command],

    encodeTelemetry(batch) {
      return json(topics.telemetry, { v: NATIVE_VERSION, ...who, readings: batch.map(reading) });
    },

    encodeEvent(d: EventDelivery) {
      return json(topics.events, {
        v: NATIVE_VERSION,
        ...who,
        seq: d.seq,
        ts: d.ts,
        clock: d.clock,
        historical: d.historical,
        event: eventFields(d.event),
      });
    },

    encodeBirth(birth: BirthInfo) {
      return json(
        topics.state,
        {
          v: NATIVE_VERSION,
          ...who,
          online: true,
          reason: 'connected',
          ts: birth.ts,
          clock: birth.clock,
          version: birth.version,
          configHash: birth.configHash,
          ...(birth.skippedSeqs === undefined ? {} : { skippedSeqs: { from: birth.skippedSeqs.from, to: birth.skippedSeqs.to } }),
          ...(birth.skippedRanges === undefined ? {} : { skippedRanges: birth.skippedRanges.map((r) => ({ from: r.from, to: r.to })) }),
          channels: birth.channels.map((c) => ({
            id: c.id,
            ...(c.deviceId === undefined ? {} : { device: c.deviceId }),
            ...(c.indicator === undefined ? {} : { indicator: c.indicator }),
            ...(c.unit === undefined ? {} : { unit: c.unit }),
            ...(c.name === undefined ? {} : { name: c.name }),
          })),
        },
        true,
      );
    },

    encodeWill() {
      // No time: the broker publishes the will whenever it notices the loss, long after this was encoded.
      return json(topics.state, { v: NATIVE_VERSION, ...who, online: false, reason: 'connection-lost' }, true);
    },

    encodeShutdown(stamp: StateStamp) {
      return json(topics.state, { v: NATIVE_VERSION, ...who, online: false, reason: 'shutdown', ts: stamp.ts, clock: stamp.clock }, true);
    },

    decodeCommand(topic, payload) {
      if (topic !== topics.command) return decodeFailure(topic, null, `not this gateway's command topic (${topics.command})`);
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        return decodeFailure(topic, null, 'not JSON');
      }
      if (!isObject(body)) return decodeFailure(topic, null, 'not a JSON object');
      const id = typeof body.id === 'string' && ID_PATTERN.test(body.id) ? body.id : null;
      const action = isObject(body.command) && typeof body.command.action === 'string' ? body.command.action : undefined;
      const fail = (error: string): GateInput => decodeFailure(topic, id, error, action);
      if (body.v !== NATIVE_VERSION) return fail(`v: must be ${NATIVE_VERSION}`);
      if (id === null) return fail('id: must be a string of 1 to 128 printable ASCII characters without spaces');
      const unknown = Object.keys(body).filter((key) => !ENVELOPE_FIELDS.has(key));
      if (unknown.length > 0) return fail(`unknown field(s): ${unknown.join(', ')}`);
      let expiresAt: number;
      if (body.expiresAt !== undefined) {
        if (body.ttl !== undefined || body.issuedAt !== undefined) return fail('give either expiresAt or issuedAt + ttl, not both');
        if (!isTime(body.expiresAt)) return fail('expiresAt: must be a time in ms since the epoch (UTC)');
        expiresAt = body.expiresAt;
      } else if (body.ttl !== undefined || body.issuedAt !== undefined) {
        if (!isTime(body.issuedAt)) return fail('issuedAt: must be a time in ms since the epoch (UTC), given with ttl');
        if (!isTime(body.ttl)) return fail('ttl: must be a positive whole number of ms');
        expiresAt = body.issuedAt + body.ttl;
      } else {
        return fail('expiresAt (or issuedAt + ttl): every command must say when it expires');
      }
      if (!isObject(body.command)) return fail('command: must be an object with an "action"');
      if (action === undefined) return fail('command.action: must be a string');
      if (body.sig !== undefined && typeof body.sig !== 'string') return fail('sig: must be a hex string');
      const { sig, ...unsigned } = body;
      return {
        ok: true,
        command: {
          id,
          expiresAt,
          command: body.command,
          action,
          topic,
          ...(typeof sig === 'string' ? { signature: { value: sig, signed: nativeSignedText(topic, unsigned) } } : {}),
        },
      };
    },

    encodeCommandResult(outcome: CommandOutcome) {
      return json(topics.commandResult, {
        v: NATIVE_VERSION,
        ...who,
        id: outcome.id,
        status: outcome.status,
        reason: outcome.reason,
        ...(outcome.action === undefined ? {} : { action: outcome.action }),
        message: outcome.message,
        ...(outcome.details === undefined ? {} : { details: outcome.details }),
        ts: outcome.ts,
        clock: outcome.clock,
      });
    },
  };
}
