/** IoTDA's time formats (all UTC). */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** "yyyyMMdd'T'HHmmss'Z'", e.g. 20261125T080000Z: the form every IoTDA message accepts (seconds; ms are cut). */
export function iotdaSeconds(ts: number): string {
  const d = new Date(ts);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

/** "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'": accepted by property reports, keeps the milliseconds. */
export function iotdaMilliseconds(ts: number): string {
  return new Date(ts).toISOString();
}

/** YYYYMMDDHH (UTC hour): the timestamp of the MQTT client id and the key of the password HMAC. */
export function iotdaHour(ts: number): string {
  const d = new Date(ts);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}`;
}
