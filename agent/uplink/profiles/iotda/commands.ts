import type { CommandOutcome, DecodedCommand, OutgoingMessage } from '../../profile.js';
import { CHANNEL_ACTIONS, operatorActionOf } from '../operator-actions.js';

/** Platform commands have no expiry of their own: the gate gets receipt time + this. */
export const IOTDA_COMMAND_LIFETIME_MS = 60_000;

/** The response name our answers carry; the product model's commands declare a response of this name. */
export const IOTDA_RESPONSE_NAME = 'COMMAND_RESPONSE';

export interface IotdaCommandTopics {
  /** Subscription: $oc/devices/{gw}/sys/commands/# */
  filter: string;
  request: (requestId: string) => string;
  response: (requestId: string) => string;
}

export function iotdaCommandTopics(gatewayDeviceId: string): IotdaCommandTopics {
  const base = `$oc/devices/${gatewayDeviceId}/sys/commands`;
  return {
    filter: `${base}/#`,
    request: (rid) => `${base}/request_id=${rid}`,
    response: (rid) => `${base}/response/request_id=${rid}`,
  };
}

export interface CommandScope {
  gatewayDeviceId: string;
  /** IoTDA sub-device id → our channels on it. */
  channelsOf: ReadonlyMap<string, readonly string[]>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const REQUEST_ID = /^request_id=([^/]{1,128})$/;

/**
 * $oc/devices/{gw}/sys/commands/request_id={rid} with {"object_device_id","service_id","command_name","paras"}
 * → an operator command {action, ...paras} for the gate, with context {requestId, commandName}.
 */
export function decodeIotdaCommand(topic: string, payload: Buffer, topics: IotdaCommandTopics, scope: CommandScope, now: number): DecodedCommand {
  const prefix = topics.filter.slice(0, -1);
  if (!topic.startsWith(prefix)) return { ok: false, id: null, topic, error: `not this gateway's command topic (${topics.filter})` };
  const rest = topic.slice(prefix.length);
  // Our own answers come back on the same subscription: not a command.
  if (rest.startsWith('response/')) return { ok: 'handled' };
  const rid = REQUEST_ID.exec(rest)?.[1];
  if (rid === undefined) return { ok: false, id: null, topic, error: 'topic must end in request_id={request_id}' };
  const context: Record<string, string> = { requestId: rid };
  const fail = (error: string, action?: string): DecodedCommand => ({ ok: false, id: rid, topic, error, context, ...(action === undefined ? {} : { action }) });

  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return fail('not JSON');
  }
  if (!isObject(body)) return fail('not a JSON object');
  const name = body.command_name;
  if (typeof name !== 'string' || name === '') return fail('command_name: must be a non-empty string');
  context.commandName = name;
  const action = operatorActionOf(name);
  if (body.paras !== undefined && !isObject(body.paras)) return fail('paras: must be an object', action);
  const paras: Record<string, unknown> = isObject(body.paras) ? body.paras : {};
  if ('action' in paras) return fail('paras.action: not allowed (the command_name is the action)', action);

  const target = body.object_device_id ?? scope.gatewayDeviceId;
  if (typeof target !== 'string') return fail('object_device_id: must be a string', action);
  const own = target === scope.gatewayDeviceId ? undefined : scope.channelsOf.get(target);
  if (target !== scope.gatewayDeviceId && own === undefined) {
    return fail(`object_device_id "${target}" is neither this gateway nor one of its sub-devices`, action);
  }

  const command: Record<string, unknown> = { ...paras, action };
  if (CHANNEL_ACTIONS.has(action)) {
    if (paras.channel === undefined) {
      if (own !== undefined) return fail(`paras.channel: required for a sub-device (its channels: ${own.join(', ')})`, action);
      if (action !== 'set-baseline') command.channel = '*';
    } else if (own !== undefined && typeof paras.channel === 'string' && !own.includes(paras.channel)) {
      return fail(`paras.channel "${paras.channel}" is not on sub-device "${target}" (its channels: ${own.join(', ')})`, action);
    }
  }
  return { ok: true, command: { id: rid, expiresAt: now + IOTDA_COMMAND_LIFETIME_MS, command, action, topic, context } };
}

/** The answer on .../commands/response/request_id={rid}: result_code 0 done, 1 otherwise; null without a request id. */
export function encodeIotdaResult(outcome: CommandOutcome, topics: IotdaCommandTopics): OutgoingMessage | null {
  const rid = outcome.context?.requestId;
  if (rid === undefined) return null;
  const body = {
    result_code: outcome.status === 'done' ? 0 : 1,
    response_name: IOTDA_RESPONSE_NAME,
    paras: {
      result: outcome.status,
      ...(outcome.reason === null ? {} : { reason: outcome.reason }),
      message: outcome.message,
    },
  };
  return { topic: topics.response(rid), payload: Buffer.from(JSON.stringify(body)), retain: false };
}
