import { z } from 'zod';
import { duration } from '../common.js';

export const GEOHAZARD_CODE = /^(L1_LF|L1_QJ|L1_GP|L1_WY|L3_YL)_\d{1,3}$/;

export const geohazardOptions = z
  .strictObject({
    deviceId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'the device id the platform issued (letters, digits, "_" or "-")')
      .meta({ description: 'Device id issued by the platform; also the MQTT client id. The password file holds the API key.' }),
    channels: z
      .record(z.string(), z.string().regex(GEOHAZARD_CODE, 'a channel code like "L1_LF_1" (crack), "L1_QJ_1" (tilt) or "L3_YL_1" (rain)'))
      .meta({ description: 'Our channel id → platform channel code. Channels not listed are not sent to this platform.' }),
    plusInterval: duration
      .prefault('5m')
      .meta({ description: 'Report interval in emergency work mode (setworkmode 2), until the platform sets another.' }),
    statusInterval: duration.prefault('1h').meta({ description: 'How often the S1_ZT_1 status is reported.' }),
  })
  .meta({ description: 'National geohazard IoT platform, universal-type device ($dp frames).' });

export type GeohazardOptions = z.output<typeof geohazardOptions>;
