import { z } from 'zod';
import { alarmLevelName, crackGrade } from '../../../config/schema/index.js';

/**
 * What survives a restart: latched levels and their acknowledgement, baselines, and the crack history and grade
 * (so a rate window and accelerated polling carry on). Non-latched levels are not kept: they re-derive from the
 * next readings. Times are kept as ages, not monotonic stamps, which mean nothing in the next process.
 */
export const alarmSnapshotSchema = z.strictObject({
  version: z.literal(1),
  takenAt: z.strictObject({
    wallTs: z.number(),
    clockSynced: z.boolean(),
  }),
  channels: z.record(
    z.string(),
    z.strictObject({
      latched: z
        .strictObject({
          levels: z.array(z.strictObject({ level: alarmLevelName, acknowledged: z.boolean() })).max(2),
          overRange: z.boolean(),
        })
        .optional(),
      baseline: z
        .strictObject({
          value: z.number(),
          source: z.enum(['first-reading', 'config', 'command']),
          by: z.string().optional(),
        })
        .optional(),
      crack: z
        .strictObject({
          grade: crackGrade.nullable(),
          acknowledged: z.boolean(),
          /** [age in ms before takenAt, value in mm], oldest first. */
          history: z.array(z.tuple([z.number().min(0), z.number()])).max(1000),
        })
        .optional(),
    }),
  ),
});

export type AlarmSnapshot = z.output<typeof alarmSnapshotSchema>;
export type ChannelSnapshot = AlarmSnapshot['channels'][string];

/** Checks a snapshot read back from disk; a damaged one is refused whole, with the reason, and changes nothing. */
export function parseAlarmSnapshot(input: unknown): { ok: true; snapshot: AlarmSnapshot } | { ok: false; error: string } {
  const parsed = alarmSnapshotSchema.safeParse(input);
  if (parsed.success) return { ok: true, snapshot: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'snapshot';
  return { ok: false, error: `${where}: ${issue?.message ?? 'not an alarm snapshot'}` };
}
