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
    qualityKeys: z
      .boolean()
      .default(true)
      .meta({ description: 'Send "<channel>_quality" ("good", "uncertain:<reason>", "bad:<reason>") beside each value; a bad reading is then its quality alone.' }),
    disconnectSilent: z
      .boolean()
      .default(true)
      .meta({
        description:
          'Announce a device as disconnected (v1/gateway/disconnect) once every channel of it has failed to answer (timeout, port or breaker), and connected again when it answers.',
      }),
  })
  .meta({ description: 'ThingsBoard gateway MQTT API (v1/gateway/...): one ThingsBoard device per field device.' });

export type ThingsboardOptions = z.output<typeof thingsboardOptions>;
