import { z } from 'zod';

export const nativeOptions = z
  .strictObject({
    topicPrefix: z
      .string()
      .regex(/^[^#+\s]+$/, 'topic levels without wildcards or spaces')
      .default('vigil')
      .meta({ description: 'First topic level(s); topics are <prefix>/<site>/<gateway>/...' }),
  })
  .meta({ description: "Vigil's own JSON contract (docs/platform.md)." });

export type NativeOptions = z.output<typeof nativeOptions>;
