import { z } from 'zod';

export const thingsboardOptions = z
  .strictObject({
    devices: z
      .record(
        z.string(),
        z.strictObject({
          name: z.string().min(1).max(255).optional().meta({ description: 'Device name in ThingsBoard; default our device id.' }),
          type: z.string().min(1).max(255).optional().meta({ description: 'Device profile (type) in ThingsBoard; default "default".' }),
        }),
      )
      .default({})
      .meta({ description: 'Our device id → ThingsBoard device name and type.' }),
  })
  .meta({ description: 'ThingsBoard gateway MQTT API (v1/gateway/...).' });

export type ThingsboardOptions = z.output<typeof thingsboardOptions>;
