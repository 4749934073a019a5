import type { Catalogue, Writable } from './catalogue.js';
import { DataType, dataTypeName, type DecodedMetric, type DecodedPayload } from './payload.js';

/**
 * NCMD/DCMD metrics → what they ask for. One metric is one request: a rebirth (the profile does it itself), an
 * operator command for the shared gate, or an error saying what is wrong with that metric. Declared writable
 * metrics are matched by name or alias; outputs, which the births do not list, are also addressed by name as
 * "Outputs/<output>/Force" and "Outputs/<output>/Release" (the command handler knows which outputs exist).
 */

export type CommandRequest =
  | { kind: 'rebirth'; metric: string }
  | { kind: 'command'; metric: string; action: string; command: Record<string, unknown> }
  | { kind: 'error'; metric: string; action?: string; error: string };

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const STATES: ReadonlySet<string> = new Set(['on', 'off']);
const OUTPUT_METRIC = /^Outputs\/([^/]+)\/(Force|Release)$/;

/** "600" (seconds) or "10m": a duration as the command schema takes it; undefined when it is neither. */
function duration(text: string): string | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  return match[2] === undefined ? `${match[1]}s` : text;
}

function forceFrom(metric: string, output: string, state: string | undefined, forText: string | undefined, extra: number): CommandRequest {
  const usage = metric.startsWith('Outputs/') ? '"<on|off> <seconds or 10m>"' : '"<output> <on|off> <seconds or 10m>"';
  if (extra > 0 || state === undefined || forText === undefined) return { kind: 'error', metric, action: 'force', error: `${metric}: expected ${usage}` };
  if (!STATES.has(state)) return { kind: 'error', metric, action: 'force', error: `${metric}: state must be "on" or "off", not "${state}"` };
  const forDuration = duration(forText);
  if (forDuration === undefined) {
    return { kind: 'error', metric, action: 'force', error: `${metric}: "${forText}" is not a duration (seconds, or a number with ms, s, m, h or d)` };
  }
  return { kind: 'command', metric, action: 'force', command: { action: 'force', output, state, for: forDuration } };
}

function words(text: string): string[] {
  return text.trim().split(/\s+/).filter((w) => w.length > 0);
}

function typeProblem(metric: DecodedMetric, label: string, expected: typeof DataType.Boolean | typeof DataType.String): string | undefined {
  if (metric.datatype !== undefined && metric.datatype !== expected) {
    return `${label}: expects ${dataTypeName(expected)}, got ${dataTypeName(metric.datatype)}`;
  }
  if (metric.isNull) return `${label}: a null value asks for nothing`;
  const field = expected === DataType.Boolean ? 'boolean' : 'string';
  if (metric.valueField !== field) {
    return `${label}: expects a ${dataTypeName(expected)} value, got ${metric.valueField === undefined ? 'no value' : `a ${metric.valueField} value`}`;
  }
  return undefined;
}

function fromWritable(writable: Writable, metric: DecodedMetric, label: string): CommandRequest {
  const action = writable.kind === 'rebirth' ? undefined : writable.kind;
  const problem = typeProblem(metric, label, writable.type);
  if (problem) return { kind: 'error', metric: label, ...(action ? { action } : {}), error: problem };
  switch (writable.kind) {
    case 'rebirth':
      return metric.value === true ? { kind: 'rebirth', metric: label } : { kind: 'error', metric: label, error: `${label}: write true to ask for a rebirth` };
    case 'acknowledge':
      return metric.value === true
        ? { kind: 'command', metric: label, action: 'acknowledge', command: { action: 'acknowledge', channel: writable.channelId } }
        : { kind: 'error', metric: label, action: 'acknowledge', error: `${label}: write true to acknowledge` };
    case 'force': {
      const [output, state, forText, ...rest] = words(String(metric.value));
      if (output === undefined) return { kind: 'error', metric: label, action: 'force', error: `${label}: expected "<output> <on|off> <seconds or 10m>"` };
      return forceFrom(label, output, state, forText, rest.length);
    }
    case 'release': {
      const parts = words(String(metric.value));
      if (parts.length !== 1 || parts[0] === undefined) return { kind: 'error', metric: label, action: 'release', error: `${label}: expected the id of one output` };
      return { kind: 'command', metric: label, action: 'release', command: { action: 'release', output: parts[0] } };
    }
  }
}

/** Outputs/<output>/Force ("on 600") and Outputs/<output>/Release (true), accepted on NCMD for any output name. */
function fromOutputMetric(metric: DecodedMetric, label: string): CommandRequest | undefined {
  const match = OUTPUT_METRIC.exec(label);
  if (!match) return undefined;
  const output = match[1] ?? '';
  if (match[2] === 'Force') {
    const problem = typeProblem(metric, label, DataType.String);
    if (problem) return { kind: 'error', metric: label, action: 'force', error: problem };
    const [state, forText, ...rest] = words(String(metric.value));
    return forceFrom(label, output, state, forText, rest.length);
  }
  const problem = typeProblem(metric, label, DataType.Boolean);
  if (problem) return { kind: 'error', metric: label, action: 'release', error: problem };
  return metric.value === true
    ? { kind: 'command', metric: label, action: 'release', command: { action: 'release', output } }
    : { kind: 'error', metric: label, action: 'release', error: `${label}: write true to release the output` };
}

/** The requests in one NCMD (deviceId undefined) or DCMD payload, one per metric, in payload order. */
export function commandRequests(payload: DecodedPayload, catalogue: Catalogue, deviceId: string | undefined): CommandRequest[] {
  return payload.metrics.map((metric, index) => {
    const label = metric.name ?? (metric.alias === undefined ? `metric #${index + 1}` : `alias ${metric.alias}`);
    const writable = deviceId === undefined ? catalogue.nodeWritable(metric.name, metric.alias) : catalogue.deviceWritable(deviceId, metric.name, metric.alias);
    if (writable) return fromWritable(writable, metric, label);
    if (deviceId === undefined && metric.name !== undefined) {
      const output = fromOutputMetric(metric, metric.name);
      if (output) return output;
    }
    const where = deviceId === undefined ? 'this edge node' : `device ${deviceId}`;
    return { kind: 'error', metric: label, error: `${label}: not a writable metric of ${where}` };
  });
}
