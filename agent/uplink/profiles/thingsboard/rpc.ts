import type { CommandOutcome, DecodedCommand, OutgoingMessage } from '../../profile.js';
import { CHANNEL_ACTIONS, operatorActionOf } from '../operator-actions.js';

export const RPC_TOPIC = 'v1/gateway/rpc';

/** ThingsBoard RPC has no expiry of its own: the gate gets receipt time + this. */
export const THINGSBOARD_RPC_LIFETIME_MS = 60_000;

/** ThingsBoard methods are camelCase by custom. */
const THINGSBOARD_ALIASES: ReadonlyMap<string, string> = new Map([['setBaseline', 'set-baseline']]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * ThingsBoard numbers RPC requests per device, and may start again after its own restart: an id is only unique
 * for a while. A repeat within the lifetime of a command is a redelivery (the gate refuses it as a duplicate);
 * later it is a new request and gets a new command id.
 */
export class RpcIds {
  private readonly seen = new Map<string, { commandId: string; at: number }>();

  commandId(device: string, rpcId: string, now: number): string {
    for (const [key, entry] of this.seen) {
      if (now - entry.at <= THINGSBOARD_RPC_LIFETIME_MS) break;
      this.seen.delete(key);
    }
    const key = JSON.stringify([device, rpcId]);
    const entry = this.seen.get(key);
    if (entry && now - entry.at <= THINGSBOARD_RPC_LIFETIME_MS) return entry.commandId;
    const commandId = `${device}#${rpcId}@${now}`;
    this.seen.delete(key);
    this.seen.set(key, { commandId, at: now });
    return commandId;
  }
}

export interface RpcScope {
  /** ThingsBoard device name → our channels on it. */
  channelsOf: ReadonlyMap<string, readonly string[]>;
}

/**
 * {"device":"Dev A","data":{"id":1,"method":"acknowledge","params":{"channel":"tank1.ch4"}}} → an operator
 * command {action, ...params} for the gate, with context {device, rpcId, idType}.
 */
export function decodeRpc(topic: string, payload: Buffer, scope: RpcScope, ids: RpcIds, now: number): DecodedCommand {
  if (topic !== RPC_TOPIC) return { ok: false, id: null, topic, error: `not the gateway RPC topic (${RPC_TOPIC})` };
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, id: null, topic, error: 'not JSON' };
  }
  if (!isObject(body)) return { ok: false, id: null, topic, error: 'not a JSON object' };
  const data = body.data;
  // Our own replies ({"device","id","data":{...}}) come back on the same topic: not a request.
  if ('id' in body && !(isObject(data) && 'method' in data)) return { ok: 'handled' };
  const device = typeof body.device === 'string' ? body.device : undefined;
  const rawId = isObject(data) ? data.id : undefined;
  const rpcId = typeof rawId === 'number' && Number.isSafeInteger(rawId) ? String(rawId) : typeof rawId === 'string' && rawId !== '' ? rawId : undefined;
  if (device === undefined || rpcId === undefined || !isObject(data)) {
    return { ok: false, id: null, topic, error: 'a request needs "device" (a string) and "data" with an "id"' };
  }
  const context: Record<string, string> = { device, rpcId, idType: typeof rawId === 'number' ? 'number' : 'string' };
  const id = ids.commandId(device, rpcId, now);
  const method = data.method;
  const action = typeof method === 'string' ? operatorActionOf(method, THINGSBOARD_ALIASES) : undefined;
  const fail = (error: string): DecodedCommand => ({ ok: false, id, topic, error, context, ...(action === undefined ? {} : { action }) });
  if (typeof method !== 'string' || method === '' || action === undefined) return fail('data.method: must be a non-empty string');
  const own = scope.channelsOf.get(device);
  if (own === undefined) return fail(`device "${device}" is not behind this gateway`);
  if (data.params !== undefined && !isObject(data.params)) return fail('data.params: must be an object');
  const params: Record<string, unknown> = isObject(data.params) ? data.params : {};
  if ('action' in params) return fail('data.params.action: not allowed (the method is the action)');
  const command: Record<string, unknown> = { ...params, action };
  if (CHANNEL_ACTIONS.has(action)) {
    if (params.channel === undefined) {
      // A device with one channel needs no name for it.
      if (own.length !== 1) return fail(`data.params.channel: required (channels of "${device}": ${own.join(', ')})`);
      command.channel = own[0];
    } else if (typeof params.channel === 'string' && !own.includes(params.channel)) {
      return fail(`data.params.channel "${params.channel}" is not on "${device}" (its channels: ${own.join(', ')})`);
    }
  }
  return { ok: true, command: { id, expiresAt: now + THINGSBOARD_RPC_LIFETIME_MS, command, action, topic, context } };
}

/** {"device","id","data":{"success","reason"?,"message"}} on v1/gateway/rpc; null when the request named no device and id. */
export function encodeRpcReply(outcome: CommandOutcome): OutgoingMessage | null {
  const device = outcome.context?.device;
  const rpcId = outcome.context?.rpcId;
  if (device === undefined || rpcId === undefined) return null;
  const id = outcome.context?.idType === 'number' ? Number(rpcId) : rpcId;
  const data = {
    success: outcome.status === 'done',
    ...(outcome.reason === null ? {} : { reason: outcome.reason }),
    message: outcome.message,
  };
  return { topic: RPC_TOPIC, payload: Buffer.from(JSON.stringify({ device, id, data })), retain: false };
}
