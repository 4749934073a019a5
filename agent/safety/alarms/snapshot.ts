import { z } from 'zod';
import { alarmLevelName, crackGrade } from '../../../config/schema/index.js';

/** One channel's entry: what of it survives a restart. */
export const channelSnapshotSchema = z.strictObject({
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
});

const takenAtSchema = z.strictObject({
  wallTs: z.number(),
  clockSynced: z.boolean(),
});

/**
 * What survives a restart: latched levels and their acknowledgement, baselines, and the crack history and grade
 * (so a rate window and accelerated polling carry on). Non-latched levels are not kept: they re-derive from the
 * next readings. Times are kept as ages, not monotonic stamps, which mean nothing in the next process.
 * `baselined` lists the channels that had a baseline taken from a reading or set by command: one of them whose
 * entry is missing after the restart lost its baseline (it is held in fault, never silently re-zeroed).
 */
export const alarmSnapshotSchema = z.strictObject({
  version: z.literal(1),
  takenAt: takenAtSchema,
  channels: z.record(z.string(), channelSnapshotSchema),
  baselined: z.array(z.string()).optional(),
});

export type AlarmSnapshot = z.output<typeof alarmSnapshotSchema>;
export type ChannelSnapshot = z.output<typeof channelSnapshotSchema>;

/** ok: what could be read, and `problems`, one line per part that was skipped (empty when all was well). */
export type ParsedAlarmSnapshot = { ok: true; snapshot: AlarmSnapshot; problems: string[] } | { ok: false; error: string };

/** A takenAt that cannot be read: no downtime is assumed, which can only make a crack rate come out higher. */
const UNKNOWN_TAKEN_AT = { wallTs: 0, clockSynced: false } as const;

function issueText(prefix: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path.map(String) ?? [])].join('.');
  return `${path}: ${issue?.message ?? 'unreadable'}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a snapshot read back from disk, part by part: a damaged channel entry (or takenAt, or baselined list)
 * is skipped and reported in `problems`, and everything else is kept, so one bad entry does not cost every
 * channel its latches and baselines. Refused whole only when it is not an alarm snapshot of this version.
 */
export function parseAlarmSnapshot(input: unknown): ParsedAlarmSnapshot {
  if (!isRecord(input)) return { ok: false, error: 'snapshot: not an alarm snapshot' };
  if (input.version !== 1) return { ok: false, error: `version: expected 1, got ${JSON.stringify(input.version) ?? 'none'}` };
  const problems: string[] = [];

  for (const key of Object.keys(input)) {
    if (!['version', 'takenAt', 'channels', 'baselined'].includes(key)) problems.push(`${key}: unknown part, ignored`);
  }

  let takenAt: AlarmSnapshot['takenAt'] = { ...UNKNOWN_TAKEN_AT };
  const parsedTakenAt = takenAtSchema.safeParse(input.takenAt);
  if (parsedTakenAt.success) takenAt = parsedTakenAt.data;
  else problems.push(`${issueText('takenAt', parsedTakenAt.error)} (downtime taken as zero)`);

  const entries: Array<[string, ChannelSnapshot]> = [];
  if (isRecord(input.channels)) {
    for (const [channelId, raw] of Object.entries(input.channels)) {
      const parsed = channelSnapshotSchema.safeParse(raw);
      if (parsed.success) entries.push([channelId, parsed.data]);
      else problems.push(`${issueText(`channels.${channelId}`, parsed.error)} (entry skipped)`);
    }
  } else {
    problems.push('channels: not a record of channel entries (all skipped)');
  }

  const snapshot: AlarmSnapshot = { version: 1, takenAt, channels: Object.fromEntries(entries) };
  if (input.baselined !== undefined) {
    if (Array.isArray(input.baselined)) {
      const ids = input.baselined.filter((id): id is string => typeof id === 'string');
      if (ids.length < input.baselined.length) problems.push('baselined: entries that are not channel ids skipped');
      snapshot.baselined = ids;
    } else {
      problems.push('baselined: not a list of channel ids (ignored)');
    }
  }
  return { ok: true, snapshot, problems };
}
