/**
 * Which shipped profiles fit a device that answered: read each profile's registers from it and judge whether
 * the answers make sense under that profile. Every read must succeed, status and unit/decimals codes must be
 * ones the profile knows, values must sit in their declared physical ranges, and an address register must hold
 * the unit id the device answered on. Plausible profiles are ranked by how much evidence they gathered: a
 * profile that checked ten registers, a status code and a unit word outranks one that read a single
 * unconstrained word, which nearly any device satisfies.
 */
import { isComputed, type Profile } from '../../config/index.js';
import { describeException } from '../../drivers/modbus/index.js';
import { formatAddress } from './decode-table.js';
import { readWithProfile, type BlockReader, type RegisterReading } from './profile-read.js';

export interface ProfileMatch {
  profileId: string;
  name: string;
  plausible: boolean;
  /** Weight of the evidence for the profile; 0 when implausible. */
  score: number;
  /** What fits. */
  reasons: string[];
  /** What does not fit (any one makes the profile implausible unless marked "weak"). */
  against: string[];
  /** The profile's decoding of the device, for the technician to compare with its display. */
  readings: RegisterReading[];
}

export interface MatchVerdict {
  /** The best candidate when it is ahead of every other; null when none fits or the best are tied. */
  best: string | null;
  /** The candidates sharing the top score, when more than one does. */
  tied: string[];
  /** Plausible profiles, best first. */
  candidates: ProfileMatch[];
  rejected: ProfileMatch[];
}

const ADDRESS_REGISTER = /(^|_)(device_address|slave_address|slave_id|unit_id|modbus_address|address)$/;

const POINTS = { answered: 1, inRange: 2, knownCode: 3, flagsWord: 1, unitOrDecimals: 2, identity: 5, weakAgainst: -1 } as const;

function show(reading: RegisterReading): string {
  return reading.value === null ? 'no value' : reading.unit ? `${reading.value} ${reading.unit}` : `${reading.value}`;
}

/** Judges one profile on one unit. `read` carries each planned block to the device. */
export async function judgeProfile(profile: Profile, unit: number, read: BlockReader): Promise<ProfileMatch> {
  const result = await readWithProfile(profile, unit, read);
  const match: ProfileMatch = {
    profileId: profile.id,
    name: profile.name,
    plausible: true,
    score: 0,
    reasons: [],
    against: [],
    readings: result.readings,
  };
  const weighted: Array<{ text: string; points: number }> = [];
  const credit = (points: number, text?: string): void => {
    match.score += points;
    if (text !== undefined) weighted.push({ text, points });
  };
  const fatal = (why: string): void => {
    match.plausible = false;
    match.against.push(why);
  };

  let answered = 0;
  for (const { block, outcome } of result.transactions) {
    if (outcome.ok) {
      answered += block.count;
      continue;
    }
    const what = `FC${String(block.fn).padStart(2, '0')} ${formatAddress(block.address)}×${block.count}`;
    fatal(
      outcome.failure === 'exception' && outcome.exceptionCode !== undefined
        ? `${what}: ${describeException(outcome.exceptionCode)}`
        : `${what}: ${outcome.failure} (${outcome.detail})`,
    );
  }
  if (!match.plausible) return finish(match);
  credit(answered * POINTS.answered, `${answered} register(s)/bit(s) answered`);

  const byName = new Map(profile.registers.map((r) => [r.name, r]));
  for (const reading of result.readings) {
    const register = byName.get(reading.register)!;
    const name = reading.register;
    if (reading.quality === 'bad') {
      if (reading.reason === 'out-of-range') fatal(`${name}: ${reading.detail ?? 'below its physical range'}`);
      else if (reading.reason === 'data-error') fatal(`${name}: ${reading.detail ?? 'data error'}`);
      else if (reading.reason === 'sentinel') {
        match.score += POINTS.weakAgainst;
        match.against.push(`weak: ${name}: ${reading.detail ?? 'no-data sentinel'}`);
      }
      // A device state (sensor fault, lost sensor) is a valid answer: the status word said so, which is evidence.
      continue;
    }
    if (reading.reason === 'over-range' && register.range) {
      match.score += POINTS.weakAgainst;
      match.against.push(`weak: ${name}: ${reading.detail ?? 'above its physical range'}`);
    } else if (register.range && reading.value !== null) {
      credit(POINTS.inRange, `${name} = ${show(reading)} within ${register.range.min}..${register.range.max}`);
    }
    if (!isComputed(register)) {
      if (register.states?.values && reading.value !== null) {
        const raw = reading.raw === null ? Number.NaN : Number.parseInt(reading.raw.replace(/ /g, ''), 16);
        const known = Object.keys(register.states.values).some((code) => Number(code) === raw);
        if (known) {
          credit(POINTS.knownCode, `${name} = 0x${reading.raw} is a code the profile knows (${register.states.values[codeKey(register.states.values, raw)]})`);
        } else if (register.states.otherwise !== 'ok') {
          fatal(`${name} = 0x${reading.raw} is not a code the profile knows`);
        }
      } else if (register.states) {
        credit(POINTS.flagsWord);
      }
      if (register.decimalsFrom && reading.value !== null) credit(POINTS.unitOrDecimals);
      if (register.unitFrom && reading.value !== null) {
        const said = weighted.some((w) => w.text.startsWith(`unit word ${register.unitFrom!.register} `));
        credit(POINTS.unitOrDecimals, said ? undefined : `unit word ${register.unitFrom.register} gives ${reading.unit}`);
      }
    }
    if (ADDRESS_REGISTER.test(name) && reading.value !== null) {
      if (reading.value === unit) {
        credit(POINTS.identity, `${name} = ${reading.value}, the unit id it answered on`);
      } else {
        fatal(`${name} = ${reading.value}, but the device answered on unit ${unit}`);
      }
    }
  }
  // Strongest evidence first; among equals, the order the registers come in.
  match.reasons = weighted.map((w, i) => ({ ...w, i })).sort((a, b) => b.points - a.points || a.i - b.i).map((w) => w.text);
  return finish(match);
}

function codeKey(values: Record<string, string>, raw: number): string {
  return Object.keys(values).find((code) => Number(code) === raw)!;
}

function finish(match: ProfileMatch): ProfileMatch {
  if (!match.plausible) match.score = 0;
  return match;
}

/** Judges every profile and ranks the plausible ones. */
export async function matchProfiles(
  profiles: readonly Profile[],
  unit: number,
  readFor: (profile: Profile) => BlockReader,
  shouldStop: () => boolean = () => false,
): Promise<MatchVerdict> {
  const judged: ProfileMatch[] = [];
  for (const profile of profiles) {
    if (shouldStop()) break;
    judged.push(await judgeProfile(profile, unit, readFor(profile)));
  }
  const candidates = judged.filter((m) => m.plausible).sort((a, b) => b.score - a.score || a.profileId.localeCompare(b.profileId));
  const top = candidates[0]?.score;
  const tied = top === undefined ? [] : candidates.filter((m) => m.score === top).map((m) => m.profileId);
  return {
    best: tied.length === 1 ? tied[0]! : null,
    tied: tied.length > 1 ? tied : [],
    candidates,
    rejected: judged.filter((m) => !m.plausible),
  };
}
