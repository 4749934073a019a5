import { createHmac } from 'node:crypto';
import type { BrokerCredentials } from '../../credentials.js';
import type { ClockFlag } from '../../payloads.js';
import type { ConnectIdentity } from '../../profile.js';
import { Secret } from '../../secret.js';
import { iotdaHour } from './time.js';

export type TimestampCheck = 'auto' | 'always' | 'never';

/**
 * IoTDA's secret login, derived anew for every CONNECT:
 *   client id = {device_id}_0_{sign type}_{YYYYMMDDHH}   (0: the device is named by its device id;
 *               sign type 0 = the platform checks only the password, 1 = it also checks the hour against its clock)
 *   user name = {device_id}
 *   password  = lower-case hex of HMAC-SHA256(key = YYYYMMDDHH, message = device secret)
 */
export function iotdaConnectIdentity(
  deviceId: string,
  secret: Secret,
  now: { ts: number; clock: ClockFlag },
  timestampCheck: TimestampCheck,
  others: Omit<BrokerCredentials, 'username' | 'password'> = {},
): ConnectIdentity {
  const hour = iotdaHour(now.ts);
  // Unsynchronised, our hour may be wrong: the unchecked form still lets the gateway in (and get its time back).
  const checked = timestampCheck === 'always' || (timestampCheck === 'auto' && now.clock === 'synced');
  const password = createHmac('sha256', hour).update(secret.reveal()).digest('hex');
  return {
    clientId: `${deviceId}_0_${checked ? 1 : 0}_${hour}`,
    credentials: { ...others, username: deviceId, password: new Secret(password) },
  };
}
