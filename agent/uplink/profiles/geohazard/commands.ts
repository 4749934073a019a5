/**
 * Platform commands: "$cmd=<name>&<key>=<value>&…&msgid=<id>" on $creq/<devId>/<anything>, answered on $dr
 * with "$cmd=<name>&result=succ|fail&msgid=<id>" and, where there is more to say, further key=value pairs.
 */

const COMMAND_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
/** Printable ASCII without the separators, so a message id can be echoed as it came. */
const MESSAGE_ID = /^[\x21-\x25\x27-\x3c\x3e-\x7e]{1,64}$/;
const MAX_COMMAND_BYTES = 4096;

export interface ParsedCommand {
  name: string;
  msgid: string;
  params: ReadonlyMap<string, string>;
}

export type CommandParse =
  | { ok: true; command: ParsedCommand }
  /** name and msgid as far as they could be read, so the failure reply can carry them. */
  | { ok: false; name: string; msgid: string | undefined; error: string };

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Reads a command strictly: URL-decoded keys and values, no key twice, a command name and a message id.
 * Keys a command does not use (the platform also sends apikey) are left for the command to ignore.
 */
export function parseCommand(payload: Buffer): CommandParse {
  const fail = (error: string, name = 'unknown', msgid?: string): CommandParse => ({ ok: false, name, msgid, error });
  if (payload.length === 0) return fail('empty command');
  if (payload.length > MAX_COMMAND_BYTES) return fail(`command longer than ${MAX_COMMAND_BYTES} bytes`);
  const text = payload.toString('utf8');
  if (text.includes('\uFFFD')) return fail('not UTF-8 text');
  if (!text.startsWith('$cmd=')) return fail('not a "$cmd=<name>&…" command');
  const params = new Map<string, string>();
  let problem: string | undefined;
  for (const pair of text.slice(1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? undefined : decode(pair.slice(0, eq));
    const value = eq < 0 ? undefined : decode(pair.slice(eq + 1));
    if (key === undefined || value === undefined || key === '') {
      problem ??= `"${pair.slice(0, 40)}" is not key=value (percent-encoded)`;
      continue;
    }
    if (params.has(key)) {
      problem ??= `"${key}" is given twice`;
      continue;
    }
    params.set(key, value);
  }
  const rawName = params.get('cmd') ?? '';
  const name = COMMAND_NAME.test(rawName) ? rawName : 'unknown';
  const rawId = params.get('msgid');
  const msgid = rawId !== undefined && MESSAGE_ID.test(rawId) ? rawId : undefined;
  if (name === 'unknown' && rawName !== 'unknown') return fail(`command name "${rawName.slice(0, 40)}" is not a name`, name, msgid);
  if (problem) return fail(problem, name, msgid);
  if (rawId === undefined) return fail('msgid is missing', name);
  if (msgid === undefined) return fail('msgid must be 1 to 64 printable characters without "&" or "="', name);
  params.delete('cmd');
  params.delete('msgid');
  return { ok: true, command: { name, msgid, params } };
}

/** A whole number of seconds in [min, max]; a message when it is not one. */
export function secondsParam(params: ReadonlyMap<string, string>, key: string, min: number, max: number): number | string | undefined {
  const text = params.get(key);
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) return `${key} must be a whole number of seconds, not "${text.slice(0, 20)}"`;
  const value = Number(text);
  if (value < min || value > max) return `${key} must be between ${min} and ${max} seconds`;
  return value;
}

/** The reply text; extras are written in order after the message id, values percent-encoded where needed. */
export function replyText(name: string, ok: boolean, msgid: string | undefined, extras: ReadonlyArray<readonly [string, string]> = []): string {
  let text = `$cmd=${name}&result=${ok ? 'succ' : 'fail'}`;
  if (msgid !== undefined) text += `&msgid=${msgid}`;
  for (const [key, value] of extras) text += `&${key}=${value}`;
  return text;
}

/** A free-text reason for a failure reply (percent-encoded: it never breaks the key=value form). */
export function reasonExtra(message: string): readonly [string, string] {
  return ['reason', encodeURIComponent(message.slice(0, 300))];
}

/**
 * JSON inside a reply (getstatus state): kept readable, with "&" written as the JSON escape \u0026 so a reader
 * splitting on "&" still sees one value.
 */
export function jsonExtra(key: string, value: unknown): readonly [string, string] {
  return [key, JSON.stringify(value).replace(/&/g, '\\u0026')];
}
