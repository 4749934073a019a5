/**
 * The soak's end-of-run checks, as pure functions over what the platform received (so they can be read, and
 * checked, apart from the harness).
 */
import type { Site } from '../../config/schema/index.js';
import { ManualClock } from '../../agent/clock/index.js';
import { AlarmEngine } from '../../agent/safety/index.js';
import type { SafetyEvent } from '../../agent/safety/index.js';
import type { Reading } from '../../drivers/reading.js';

/** One message part as the platform got it: a reading or an event, with the connection it came on. */
export interface Arrival {
  /** Seconds since the soak started, when the platform got it. */
  at: number;
  seq: number;
  kind: 'reading' | 'event';
  historical: boolean;
  /** The agent process (run) and the broker incarnation: together, the connection it most likely came on. */
  run: number;
  epoch: number;
  channel?: string;
  value?: number | null;
  quality?: string;
  reason?: string;
  deviceId?: string;
  ts: number;
  event?: { type: string; channel?: string; output?: string; level?: string; value: number | null };
}

export interface SeqRange {
  from: number;
  to: number;
}

export interface DeliveryCheck {
  taken: number;
  receivedUnique: number;
  duplicates: number;
  skipped: number;
  skippedReceived: number;
  /** Seqs in a skipped range below a seq the same run sent: issued, not committed, lost by kill -9. */
  lostAtKills: number[];
  dropped: number;
  /** Never received, not skipped, not accounted for by the drop counters: losses. */
  missing: number;
  missingSample: number[];
  orderViolations: number;
  orderSample: string[];
}

export function checkDelivery(arrivals: readonly Arrival[], taken: number, skips: readonly SeqRange[], dropped: number): DeliveryCheck {
  const seen = new Set<number>();
  let duplicates = 0;
  for (const a of arrivals) {
    if (seen.has(a.seq)) duplicates++;
    else seen.add(a.seq);
  }
  const inSkip = (seq: number): boolean => skips.some((r) => seq >= r.from && seq <= r.to);
  const missingSeqs: number[] = [];
  for (let seq = 1; seq <= taken; seq++) if (!seen.has(seq) && !inSkip(seq)) missingSeqs.push(seq);
  let skipped = 0;
  let skippedReceived = 0;
  const lostAtKills: number[] = [];
  for (const r of skips) {
    skipped += r.to - r.from + 1;
    let highest = 0;
    let received = 0;
    for (const seq of seen) {
      if (seq >= r.from && seq <= r.to) {
        received++;
        highest = Math.max(highest, seq);
      }
    }
    skippedReceived += received;
    // Everything below the highest seq that left live was issued; what of it never arrived was lost uncommitted.
    lostAtKills.push(highest === 0 ? 0 : highest - r.from + 1 - received);
  }
  // Order: within one connection, live in seq order and historical in seq order (docs/platform.md, "Ordering").
  // Resends (duplicates) are at-least-once, not disorder: only first arrivals are judged.
  const last = new Map<string, number>();
  const firstSeen = new Set<number>();
  let orderViolations = 0;
  const orderSample: string[] = [];
  for (const a of arrivals) {
    if (firstSeen.has(a.seq)) continue;
    firstSeen.add(a.seq);
    const key = `run ${a.run} broker ${a.epoch} ${a.historical ? 'historical' : 'live'}`;
    const previous = last.get(key) ?? 0;
    if (a.seq < previous) {
      orderViolations++;
      if (orderSample.length < 5) orderSample.push(`${key}: ${a.seq} after ${previous}`);
    }
    last.set(key, Math.max(previous, a.seq));
  }
  const missing = Math.max(0, missingSeqs.length - dropped);
  return {
    taken,
    receivedUnique: seen.size,
    duplicates,
    skipped,
    skippedReceived,
    lostAtKills,
    dropped,
    missing,
    missingSample: missingSeqs.slice(0, 10),
    orderViolations,
    orderSample,
  };
}

export interface AnnouncementCheck {
  /** Skipped ranges (read from the store) that a birth named. */
  announced: number;
  /** Ranges no birth named because the run after the kill never sent anything live: it never had a connection. */
  silent: SeqRange[];
  /** Ranges no birth named although the run after the kill sent live data (its birth goes first): a broken contract. */
  unannounced: SeqRange[];
  /** Ranges births named that the store does not show. */
  unknown: SeqRange[];
}

/**
 * The births against the store: after an unclean stop, every birth of the next run names the range its open
 * skipped (docs/platform.md, "Gateway state"), and the data of a connection follows its birth. So a run that
 * sent anything live must have announced the range below its seqs; a run that never got a connection could not.
 */
export function checkAnnouncements(skips: readonly SeqRange[], announced: readonly SeqRange[], arrivals: readonly Arrival[]): AnnouncementCheck {
  const key = (r: SeqRange): string => `${r.from}…${r.to}`;
  const named = new Set(announced.map(key));
  const inStore = new Set(skips.map(key));
  const ordered = [...skips].sort((a, b) => a.from - b.from);
  const live = arrivals.filter((a) => !a.historical).map((a) => a.seq);
  const check: AnnouncementCheck = { announced: 0, silent: [], unannounced: [], unknown: [] };
  ordered.forEach((range, i) => {
    if (named.has(key(range))) {
      check.announced++;
      return;
    }
    // The run opened after this range hands out the seqs above it, up to the next range.
    const until = ordered[i + 1]?.from ?? Infinity;
    const sentLive = live.some((seq) => seq > range.to && seq < until);
    (sentLive ? check.unannounced : check.silent).push(range);
  });
  const seen = new Set<string>();
  for (const r of announced) {
    if (inStore.has(key(r)) || seen.has(key(r))) continue;
    seen.add(key(r));
    check.unknown.push({ from: r.from, to: r.to });
  }
  return check;
}

export interface DecisionCheck {
  /** Alarm transitions the replay produced away from restarts and losses, and so judged. */
  judged: number;
  matched: number;
  /** Received, but later than the readings of one poll after the reading that decided it. */
  late: number;
  /** Expected by the replay and never received, or received with another value. */
  wrong: number;
  /** Received alarm events the replay did not produce (away from restarts). */
  unexpected: number;
  /** Alarm-raised / alarm-cleared events followed by the fan's output-on / output-off. */
  relayJudged: number;
  relayWrong: number;
  notJudged: number;
  samples: string[];
}

/**
 * Replays the received readings of one channel, in seq order, through a fresh AlarmEngine built from the same
 * site, and compares the L1/L2 raised/cleared decisions it makes with the alarm events the gateway sent. The
 * channel's levels decide on samples (delayOn 1 sample), so the replay's clock only has to move forward. A
 * restart of the agent (kill -9) restores alarm state from its store, so the replay starts over with each
 * process that produced the readings (the skipped seq ranges separate them), and these are not judged:
 * transitions in the first readings of a process, in its last readings before a kill (their event may be in
 * the kill's uncommitted window), and next to a seq that never arrived.
 */
export function checkDecisions(
  site: Site,
  channel: string,
  fanOutput: string,
  arrivals: readonly Arrival[],
  skips: readonly SeqRange[],
  readingsPerPoll: number,
): DecisionCheck {
  const firsts = new Map<number, Arrival>();
  for (const a of arrivals) if (!firsts.has(a.seq)) firsts.set(a.seq, a);
  const ordered = [...firsts.values()].sort((x, y) => x.seq - y.seq);
  const readings = ordered.filter((a) => a.kind === 'reading' && a.channel === channel);
  const alarmEvents = ordered.filter((a) => a.kind === 'event' && a.event?.channel === channel && (a.event.type === 'alarm-raised' || a.event.type === 'alarm-cleared'));
  const fanEvents = ordered.filter((a) => a.kind === 'event' && a.event?.output === fanOutput && (a.event.type === 'output-on' || a.event.type === 'output-off'));

  const check: DecisionCheck = { judged: 0, matched: 0, late: 0, wrong: 0, unexpected: 0, relayJudged: 0, relayWrong: 0, notJudged: 0, samples: [] };
  const note = (s: string): void => void (check.samples.length < 8 && check.samples.push(s));
  // Slack between the deciding reading and its event: the rest of that poll's readings and the decision itself.
  const slack = readingsPerPoll + 4;
  const expected: Array<{ seq: number; type: string; level: string; value: number | null }> = [];
  const unjudgedSpans: Array<[number, number]> = [];

  let engine: AlarmEngine | undefined;
  let clock: ManualClock | undefined;
  let run = -1;
  let previousSeq = 0;
  let inRun = 0;
  let pendingSeq = 0;
  const drafts: SafetyEvent[] = [];
  // The process that produced a seq: one more after each skipped range below it.
  const producer = (seq: number): number => skips.filter((k) => k.to < seq).length;
  // Seqs inside a skipped range left live but were never committed: the kill's window, like the last ones below it.
  const nearKill = (seq: number): boolean => skips.some((k) => seq <= k.to && seq >= k.from - slack * 4);
  for (const r of readings) {
    if (producer(r.seq) !== run) {
      // A new process: the gateway restored its state; start over and do not judge its first readings.
      run = producer(r.seq);
      clock = new ManualClock();
      engine = new AlarmEngine({ site, clock, emit: (e) => void drafts.push(e) });
      inRun = 0;
    }
    clock!.advance(200);
    const reading: Reading = {
      channelId: channel,
      deviceId: r.deviceId ?? '',
      value: r.quality === 'bad' ? null : (r.value ?? null),
      quality: (r.quality ?? 'good') as Reading['quality'],
      ...(r.reason ? { reason: r.reason as Reading['reason'] } : {}),
      wallTs: r.ts,
      monoTs: clock!.now(),
      clockSynced: true,
    } as Reading;
    // The gateway starts from the alarm state it restored, the replay from none: they meet only at a reading with a
    // value (one that starts in fault, its port gone, keeps a restored L1 that the replay would raise afresh).
    if (reading.value !== null) inRun++;
    pendingSeq = r.seq;
    drafts.length = 0;
    engine!.onReadings([reading]);
    // Judge only where nothing is unknown: not before a run's 4th reading with a value, not right after a hole in its seqs.
    const judgeable = inRun > 3 && r.seq - previousSeq <= slack * 4 && !nearKill(r.seq);
    for (const e of drafts) {
      if (e.type !== 'alarm-raised' && e.type !== 'alarm-cleared') continue;
      const level = e.level ?? '';
      const value = e.value;
      if (judgeable) expected.push({ seq: pendingSeq, type: e.type, level, value });
      else {
        check.notJudged++;
        unjudgedSpans.push([pendingSeq - slack, pendingSeq + slack * 4]);
      }
    }
    if (!judgeable) unjudgedSpans.push([Math.min(previousSeq, r.seq - slack), r.seq + slack * 4]);
    previousSeq = r.seq;
  }

  const used = new Set<number>();
  for (const x of expected) {
    check.judged++;
    const match = alarmEvents.find((a) => !used.has(a.seq) && a.seq > x.seq && a.event!.type === x.type && a.event!.level === x.level && a.seq <= x.seq + slack * 20);
    if (!match) {
      check.wrong++;
      note(`no ${x.type} ${x.level} after reading ${x.seq}`);
      continue;
    }
    used.add(match.seq);
    if (match.event!.value !== x.value) {
      check.wrong++;
      note(`${x.type} ${x.level} at ${match.seq}: value ${match.event!.value}, replay ${x.value}`);
    } else if (match.seq > x.seq + slack) {
      check.late++;
      note(`${x.type} ${x.level} at ${match.seq}, decided by reading ${x.seq}`);
    } else check.matched++;
  }
  const unjudged = (seq: number): boolean => unjudgedSpans.some(([from, to]) => seq >= from && seq <= to);
  for (const a of alarmEvents) {
    if (used.has(a.seq) || unjudged(a.seq)) continue;
    check.unexpected++;
    note(`unexpected ${a.event!.type} ${a.event!.level} at ${a.seq}`);
  }
  // The fan follows L1 (minOn / minOff 0): each L1 raised / cleared is followed by output-on / output-off.
  for (const a of alarmEvents) {
    if (a.event!.level !== 'L1' || unjudged(a.seq)) continue;
    check.relayJudged++;
    const want = a.event!.type === 'alarm-raised' ? 'output-on' : 'output-off';
    const next = fanEvents.find((f) => f.seq > a.seq && f.seq <= a.seq + slack);
    const alreadyThere = [...fanEvents].reverse().find((f) => f.seq < a.seq)?.event?.type === want;
    if (!(next?.event?.type === want || (!next && alreadyThere))) {
      check.relayWrong++;
      // What the platform got around it, to tell a relay that did not follow from events that came in between.
      const around = ordered
        .filter((x) => x.kind === 'event' && Math.abs(x.seq - a.seq) <= 12)
        .map((x) => `${x.seq} ${x.event!.type} ${x.event!.output ?? x.event!.channel ?? ''}${x.event!.level ? ` ${x.event!.level}` : ''}`.trim());
      note(`fan: ${a.event!.type} L1 at ${a.seq} not followed by ${want} (events around: ${around.join(', ')})`);
    }
  }
  return check;
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}
