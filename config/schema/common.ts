import { z } from 'zod';

/** Identifiers that appear in topics, file names and OPC UA browse names: keep them plain. */
export const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'an id of letters, digits, "_", "." or "-", starting with a letter (max 64)');

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Exported so error reporting can recognise a duration field and suggest a unit. */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Parses "500ms", "2s", "5m", "1h", "7d" into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
}

/** A duration written with its unit ("500ms", "2s", "5m", "1h", "7d"); parsed to milliseconds. */
export const duration = z
  .string()
  .regex(DURATION_PATTERN, 'a duration with a unit, like "500ms", "2s", "5m", "1h" or "7d"')
  .transform((text) => parseDuration(text)!)
  .meta({ description: 'A duration with its unit: "500ms", "2s", "5m", "1h" or "7d".' });

export const byteOrder = z
  .enum(['ABCD', 'CDAB', 'BADC', 'DCBA'])
  .meta({
    description:
      'Order of the four bytes of a 32-bit value as they arrive on the wire, A being the most significant. ' +
      'ABCD = big-endian; CDAB = word-swapped; BADC = byte-swapped; DCBA = little-endian.',
  });

export const serialLine = z.strictObject({
  baud: z.number().int().positive().default(9600).meta({ description: 'Bits per second.' }),
  dataBits: z.literal([7, 8]).default(8).meta({ description: 'Data bits per character.' }),
  parity: z.enum(['none', 'even', 'odd']).default('none').meta({ description: 'Parity bit.' }),
  stopBits: z.literal([1, 2]).default(1).meta({ description: 'Stop bits per character.' }),
});
