import { z } from 'zod';

const iotdaId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'an IoTDA id (letters, digits, "_", "-", ".", ":")');
/** Service ids and property names of a product model. */
const modelName = z.string().regex(/^[A-Za-z0-9_$-]{1,64}$/, 'a product-model name (letters, digits, "_", "-", "$"; 1 to 64)');

export const iotdaOptions = z
  .strictObject({
    gatewayDeviceId: iotdaId.meta({
      description: "The gateway's device id in IoTDA: the MQTT user name, the base of the client id, the topics' {device_id}.",
    }),
    devices: z
      .record(z.string(), iotdaId)
      .default({})
      .meta({ description: 'Our device id → IoTDA sub-device id (usually {product_id}_{node_id}); default the same id.' }),
    services: z
      .record(
        z.string(),
        z.strictObject({
          service: modelName.meta({ description: 'IoTDA service id from the product model.' }),
          property: modelName.optional().meta({ description: 'Property name; default the channel id (or its indicator code, see propertyNames).' }),
        }),
      )
      .refine((services) => Object.keys(services).length > 0, 'map at least one channel to a service: channels not listed are not sent')
      .meta({ description: 'Our channel id → product-model service (and property). Channels not listed are not sent.' }),
    propertyNames: z
      .enum(['channel', 'indicator'])
      .default('channel')
      .meta({
        description:
          'Default property name of a mapped channel without "property": its channel id, or its unified indicator code (the channel id when it has none).',
      }),
    qualityProperties: z
      .boolean()
      .default(false)
      .meta({
        description:
          'Also send "<property>_quality" ("good", "uncertain:<reason>", "bad:<reason>") beside each value. Turn on only when the product model defines these string properties.',
      }),
    alarmService: modelName
      .nullable()
      .default('Alarm')
      .meta({ description: 'Product-model service that safety events (alarms, faults, outputs) are reported as; null: events are not sent.' }),
    timestampCheck: z
      .enum(['auto', 'always', 'never'])
      .default('auto')
      .meta({
        description:
          'Client id signature type: "always" = 1 (IoTDA checks the hour in the client id against its clock), "never" = 0, "auto" = 1 while our clock is synchronised, else 0 (a gateway without time can still log in).',
      }),
    eventTime: z
      .enum(['seconds', 'milliseconds'])
      .default('seconds')
      .meta({
        description: 'event_time format: "seconds" = yyyyMMddTHHmmssZ (e.g. 20261125T080000Z), "milliseconds" = yyyy-MM-ddTHH:mm:ss.SSSZ. Both are UTC.',
      }),
  })
  .meta({ description: 'Huawei IoTDA gateway: sub-device property reports, sub-device status, commands by request id.' });

export type IotdaOptions = z.output<typeof iotdaOptions>;
