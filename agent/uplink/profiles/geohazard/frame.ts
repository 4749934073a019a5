/**
 * The $dp frame of the OneNET-legacy MQTT protocol the geohazard platform speaks: one type byte, the length of
 * the JSON as two bytes big-endian, then the JSON itself (UTF-8). The two length bytes bound the JSON to 65,535
 * bytes, so encoders split larger batches over several frames.
 */

/** Data points go here (QoS 1). */
export const DP_TOPIC = '$dp';
/** Command replies go here. */
export const DR_TOPIC = '$dr';
/** The most JSON one frame can carry: its length must fit in two bytes. */
export const MAX_DP_JSON_BYTES = 0xffff;

export function dpFrame(type: number, json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  if (body.length > MAX_DP_JSON_BYTES) throw new RangeError(`$dp JSON of ${body.length} bytes does not fit the 2-byte length`);
  return Buffer.concat([Buffer.from([type & 0xff, body.length >> 8, body.length & 0xff]), body]);
}

/**
 * A data point's time: ISO 8601 UTC with milliseconds, e.g. "2026-11-25T08:00:00.000Z" (the form field devices
 * send, with the milliseconds kept so two readings in one second stay two points). Undefined when the time
 * cannot be written (not a finite date).
 */
export function isoUtc(ts: number): string | undefined {
  if (!Number.isFinite(ts)) return undefined;
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
