import { z } from 'zod';
import { duration, identifier } from '../common.js';

/** A platform channel code: monitoring type, method and number, e.g. "L1_LF_1" (crack 1), "L3_YL_1" (rain 1). */
export const GEOHAZARD_CODE = /^(L1_LF|L1_QJ|L1_GP|L1_WY|L3_YL)_\d{1,3}$/;

/** A code, or a code and one of its components ("L1_QJ_1.X") for codes whose value is an object. */
export const GEOHAZARD_MAPPING = /^((L1_LF|L1_QJ|L1_GP|L1_WY|L3_YL)_\d{1,3})(\.([A-Za-z][A-Za-z0-9_]{0,31}))?$/;

/** The components the platform defines for the codes whose value is an object. */
export const GEOHAZARD_COMPONENTS: Readonly<Record<string, readonly string[]>> = {
  L1_QJ: ['X', 'Y', 'Z', 'angle', 'AZI'],
  L1_GP: ['gpsTotalX', 'gpsTotalY', 'gpsTotalZ'],
};

/** Splits a mapping value into its code and component; undefined when it is not one. */
export function parseGeohazardMapping(text: string): { code: string; component?: string } | undefined {
  const match = GEOHAZARD_MAPPING.exec(text);
  if (!match?.[1]) return undefined;
  return match[4] === undefined ? { code: match[1] } : { code: match[1], component: match[4] };
}

const mapping = z
  .string()
  .regex(GEOHAZARD_MAPPING, 'a channel code like "L1_LF_1" (crack), "L3_YL_1" (rain), or a code and component like "L1_QJ_1.X" (tilt)')
  .superRefine((text, ctx) => {
    const parsed = parseGeohazardMapping(text);
    const type = parsed?.code.replace(/_\d+$/, '');
    if (!parsed || type === undefined) return;
    const components = GEOHAZARD_COMPONENTS[type];
    if (parsed.component === undefined) {
      if (components) ctx.addIssue({ code: 'custom', message: `"${type}" values have components: write "${parsed.code}.<component>" (${components.join(', ')})` });
      return;
    }
    if (!components) ctx.addIssue({ code: 'custom', message: `"${type}" is a plain value: write "${parsed.code}" without a component` });
    else if (!components.includes(parsed.component)) ctx.addIssue({ code: 'custom', message: `"${parsed.component}" is not a component of ${type} (${components.join(', ')})` });
  });

export const geohazardOptions = z
  .strictObject({
    deviceId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'the device id the platform issued (letters, digits, "_" or "-")')
      .meta({
        description:
          'Device id issued by the platform: the MQTT client id, the key of every $dp frame, the <devId> of the command topic, and the user name unless the broker sets a usernameFile. The password file holds the API key.',
      }),
    channels: z
      .record(z.string(), mapping)
      .refine((channels) => Object.keys(channels).length > 0, 'map at least one channel: channels not listed are not sent')
      .meta({
        description:
          'Our channel id → platform channel code ("L1_LF_1" crack, "L3_YL_1" rain, "L1_WY_1" displacement), or code and component for tilt ("L1_QJ_1.X", .Y, .Z, .angle, .AZI) and GNSS ("L1_GP_1.gpsTotalX", …). Channels not listed are not sent to this platform.',
      }),
    statusChannels: z
      .strictObject({
        ext_power_volt: identifier.optional().meta({ description: 'Channel measuring the supply voltage (V).' }),
        temp: identifier.optional().meta({ description: 'Channel measuring the enclosure temperature (°C).' }),
        signal_4g: identifier.optional().meta({ description: 'Channel holding the cellular signal strength.' }),
      })
      .prefault({})
      .meta({ description: 'Channels whose latest good value fills the S1_ZT_1 status fields of the same name; fields without one are left out.' }),
    plusInterval: duration
      .prefault('5m')
      .meta({ description: 'Report interval in emergency work mode (setworkmode 2) until the platform sets plus_intv.' }),
    statusInterval: duration.prefault('1h').meta({ description: 'How often the S1_ZT_1 status is reported (also at every connect and on getstatus).' }),
    frameType: z
      .number()
      .int()
      .min(1)
      .max(7)
      .default(3)
      .meta({
        description:
          'First byte of every $dp frame (the OneNET data type). 3 as the platform specifies; change it only if the platform operator says its broker expects another.',
      }),
  })
  .superRefine((options, ctx) => {
    // A code is either one plain value or an object of components, never both.
    const plain = new Set<string>();
    const withComponents = new Set<string>();
    for (const text of Object.values(options.channels)) {
      const parsed = parseGeohazardMapping(text);
      if (parsed) (parsed.component === undefined ? plain : withComponents).add(parsed.code);
    }
    for (const code of plain) {
      if (withComponents.has(code)) ctx.addIssue({ code: 'custom', path: ['channels'], message: `"${code}" is mapped both as a plain value and with components` });
    }
  })
  .meta({ description: 'National geohazard IoT platform, universal-type device ($dp frames, $creq commands).' });

export type GeohazardOptions = z.output<typeof geohazardOptions>;
