import { z } from 'zod';

/** Sparkplug ids appear as topic levels: no MQTT wildcards or separators. */
const sparkplugId = z.string().regex(/^[^/+#\s]{1,64}$/, 'a Sparkplug id: 1 to 64 characters without "/", "+", "#" or spaces');

export const sparkplugOptions = z
  .strictObject({
    groupId: sparkplugId.meta({ description: 'Sparkplug group id (first level after spBv1.0).' }),
    edgeNodeId: sparkplugId.optional().meta({ description: 'Edge node id; default the gateway id.' }),
    primaryHostId: sparkplugId
      .optional()
      .meta({ description: 'Primary host application id: birth and data wait for its STATE to say online.' }),
    qos: z
      .union([z.literal(0), z.literal(1)])
      .default(1)
      .meta({
        description:
          'QoS of NBIRTH/DBIRTH/NDATA/DDATA. The specification says 0; the default 1 keeps the outbox guarantee (a record leaves the outbox only after the broker has it). With 0 a record counts as sent once written to the socket.',
      }),
  })
  .meta({ description: 'Sparkplug B 3.0: the gateway is an edge node, each field device a Sparkplug device.' });

export type SparkplugOptions = z.output<typeof sparkplugOptions>;
