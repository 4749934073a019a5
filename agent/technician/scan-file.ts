/** Reading back a saved `vigil scan --json` result: only what `vigil profile new` needs, validated. */
import { z } from 'zod';
import type { LineSettings } from '../../drivers/modbus/index.js';
import type { AnsweredRegister } from './survey.js';

const savedDevice = z.object({
  unit: z.number().int().min(1).max(247),
  line: z
    .object({
      baud: z.number().int().positive(),
      dataBits: z.literal([7, 8]),
      parity: z.enum(['none', 'even', 'odd']),
      stopBits: z.literal([1, 2]),
    })
    .nullable(),
  lineText: z.string(),
  profile: z.string().nullable(),
  tied: z.array(z.string()),
  registers: z.array(
    z.object({ fn: z.literal([1, 2, 3, 4]), address: z.number().int().min(0).max(65535), value: z.number().int().min(0).max(0xffff) }),
  ),
});

const savedScan = z.object({ endpoint: z.string(), startedAt: z.string(), devices: z.array(savedDevice) });

export interface SavedDevice {
  unit: number;
  line: LineSettings | null;
  lineText: string;
  profile: string | null;
  tied: string[];
  registers: AnsweredRegister[];
}

export interface SavedScan {
  endpoint: string;
  startedAt: string;
  devices: SavedDevice[];
}

/** Parses the text of a saved scan; throws an Error saying what is wrong and where. */
export function parseSavedScan(text: string, file: string): SavedScan {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message}); save a scan with vigil scan … --json > ${file}`);
  }
  const parsed = savedScan.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: not a vigil scan result: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}
