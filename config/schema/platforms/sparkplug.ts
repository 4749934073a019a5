import { z } from 'zod';

/** Sparkplug ids appear as topic levels: no MQTT wildcards or separators. */
const sparkplugId = z.string().regex(/^[^/+#\s]{1,64}$/, 'a Sparkplug id: 1 to 64 characters without "/", "+", "#" or spaces');

export const sparkplugOptions = z
  .strictObject({
    groupId: sparkplugId.meta({ description: 'Sparkplug group id (the level after spBv1.0 in every topic).' }),
    edgeNodeId: sparkplugId
      .optional()
      .meta({ description: 'Edge node id; default the gateway id. Each field device of the site is a Sparkplug device under it, named by its device id.' }),
    primaryHostId: sparkplugId.optional().meta({
      description:
        'Primary host application id. When set, births and data wait until spBv1.0/STATE/<id> says online; when it says offline the node publishes its NDEATH and holds data in the outbox until the host is back.',
    }),
    qos: z
      .union([z.literal(0), z.literal(1)])
      .default(1)
      .meta({
        description:
          'QoS of NBIRTH/DBIRTH/NDATA/DDATA/DDEATH (the NDEATH will is always QoS 1). The specification says 0; the default 1 keeps the outbox guarantee (a record leaves the outbox only after the broker has it). With 0 a record counts as sent once written to the socket.',
      }),
  })
  .meta({ description: 'Sparkplug B 3.0 (docs/platforms/sparkplug.md): the gateway is an edge node, each field device a Sparkplug device.' });

export type SparkplugOptions = z.output<typeof sparkplugOptions>;
