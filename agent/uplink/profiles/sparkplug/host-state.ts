/**
 * The primary host's STATE message: Sparkplug 3.0 JSON {"online": true|false, "timestamp": <ms UTC>}, or the
 * plain "ONLINE"/"OFFLINE" text of Sparkplug 2.2 hosts. Anything else is reported, never thrown.
 */
export type HostState = { ok: true; online: boolean; timestamp: number | undefined } | { ok: false; error: string };

export function parseHostState(payload: Buffer): HostState {
  const text = payload.toString('utf8').trim();
  if (text === 'ONLINE') return { ok: true, online: true, timestamp: undefined };
  if (text === 'OFFLINE') return { ok: true, online: false, timestamp: undefined };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, error: 'STATE payload is neither JSON nor ONLINE/OFFLINE' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: 'STATE payload is not a JSON object' };
  const { online, timestamp } = body as Record<string, unknown>;
  if (typeof online !== 'boolean') return { ok: false, error: 'STATE payload: "online" must be true or false' };
  if (timestamp !== undefined && (typeof timestamp !== 'number' || !Number.isFinite(timestamp))) {
    return { ok: false, error: 'STATE payload: "timestamp" must be a number (ms UTC)' };
  }
  return { ok: true, online, timestamp };
}
