import { z } from 'zod';

const iotdaId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'an IoTDA id (letters, digits, "_", "-", ".", ":")');

export const iotdaOptions = z
  .strictObject({
    gatewayDeviceId: iotdaId.meta({ description: "The gateway's device id in IoTDA (also the MQTT user name and client id base)." }),
    devices: z
      .record(z.string(), iotdaId)
      .default({})
      .meta({ description: 'Our device id → IoTDA sub-device id; default the same id.' }),
    services: z
      .record(
        z.string(),
        z.strictObject({
          service: z.string().min(1).max(64).meta({ description: 'IoTDA service id from the product model.' }),
          property: z.string().min(1).max(64).optional().meta({ description: 'Property name; default the channel id.' }),
        }),
      )
      .meta({ description: 'Our channel id → product-model service (and property). Channels not listed are not sent.' }),
  })
  .meta({ description: 'Huawei IoTDA gateway: sub-device property reports, commands by request id.' });

export type IotdaOptions = z.output<typeof iotdaOptions>;
