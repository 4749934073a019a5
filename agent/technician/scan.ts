/**
 * The bus scan: walk a line over line settings (baud, parity) and unit ids, note every unit that gives a valid
 * Modbus answer (an exception counts: it proves a slave is there), judge the shipped profiles against each, and
 * survey which registers it answers. Stoppable at any point; what was found so far is kept.
 */
import type { Profile } from '../../config/index.js';
import { describeException, type LineSettings, type ReadBlock } from '../../drivers/modbus/index.js';
import type { Transport } from '../bus/index.js';
import { matchProfiles, type ProfileMatch } from './match.js';
import { describeLine, FieldBusSession } from './session.js';
import { surveySpan, type AnsweredRegister } from './survey.js';

export type Endpoint = { kind: 'serial'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface ScanPlan {
  endpoint: Endpoint;
  /** Serial: the settings to walk, in order. TCP: one entry (the device server's line, for timing; may be null). */
  lines: Array<LineSettings | null>;
  units: number[];
  timeoutMs: number;
  profiles: Profile[];
}

export interface ScanProgress {
  done: number;
  total: number;
  line: string;
  unit: number;
  found: number;
}

export interface ScanEvents {
  onProgress?(progress: ScanProgress): void;
  onFound?(device: FoundDevice): void;
  shouldStop?(): boolean;
}

export type ProbeAnswer = { kind: 'registers'; words: number[] } | { kind: 'exception'; code: number; text: string };

export interface FoundDevice {
  unit: number;
  line: LineSettings | null;
  /** "9600 8N1", or "tcp" when the device server's line is not known. */
  lineText: string;
  /** The answer to the probe (FC03, address 0, one register). */
  answer: ProbeAnswer;
  /** The best profile when it is ahead of every other; null when none fits or several tie. */
  profile: string | null;
  tied: string[];
  candidates: ProfileMatch[];
  rejected: Array<{ profileId: string; why: string[] }>;
  /** Registers that answered: a survey of 0x0000-0x000F in FC03 and FC04, plus those the best profiles read. */
  registers: AnsweredRegister[];
  /** Matching or the survey was cut short by a stop. */
  partial: boolean;
}

export interface ScanResult {
  endpoint: string;
  lines: string[];
  units: number[];
  timeoutMs: number;
  startedAt: string;
  durationMs: number;
  probes: { done: number; total: number };
  interrupted: boolean;
  /** Why the walk ended early other than a stop (the port went away). */
  error?: string;
  devices: FoundDevice[];
  /** Units that sent bytes that made no valid frame: a device at other settings, or noise. */
  garbled: Array<{ line: string; unit: number; failure: string }>;
}

const PROBE: Omit<ReadBlock, 'count'> & { count: 1 } = { fn: 3, address: 0, count: 1 };
const SURVEY_SPAN = 16;

function endpointText(endpoint: Endpoint): string {
  return endpoint.kind === 'serial' ? endpoint.path : `tcp ${endpoint.host}:${endpoint.port}`;
}

function transportFor(endpoint: Endpoint, line: LineSettings | null): Transport {
  if (endpoint.kind === 'serial') {
    if (!line) throw new Error('a serial scan needs line settings');
    return { kind: 'serial', path: endpoint.path, line };
  }
  return line ? { kind: 'tcp', host: endpoint.host, port: endpoint.port, line } : { kind: 'tcp', host: endpoint.host, port: endpoint.port };
}

function lineText(endpoint: Endpoint, line: LineSettings | null): string {
  return line ? describeLine(line) : endpoint.kind === 'tcp' ? 'tcp' : '?';
}

export async function runScan(plan: ScanPlan, events: ScanEvents = {}): Promise<ScanResult> {
  const shouldStop = events.shouldStop ?? (() => false);
  const started = Date.now();
  const result: ScanResult = {
    endpoint: endpointText(plan.endpoint),
    lines: plan.lines.map((line) => lineText(plan.endpoint, line)),
    units: plan.units,
    timeoutMs: plan.timeoutMs,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    probes: { done: 0, total: plan.lines.length * plan.units.length },
    interrupted: false,
    devices: [],
    garbled: [],
  };
  try {
    for (const line of plan.lines) {
      if (shouldStop()) break;
      const text = lineText(plan.endpoint, line);
      const session = await FieldBusSession.open(transportFor(plan.endpoint, line), { timeoutMs: plan.timeoutMs, retries: 0 });
      try {
        for (const unit of plan.units) {
          if (shouldStop()) break;
          events.onProgress?.({ ...result.probes, line: text, unit, found: result.devices.length });
          const { answer, failure, portDown } = await probeUnit(session, unit);
          result.probes.done++;
          if (portDown) {
            result.error = failure;
            return result;
          }
          if (!answer) {
            if (failure?.startsWith('crc') || failure?.startsWith('framing')) result.garbled.push({ line: text, unit, failure });
            continue;
          }
          const found = await examineDevice(session, plan, unit, line, text, answer, shouldStop);
          result.devices.push(found);
          events.onFound?.(found);
        }
      } finally {
        await session.close();
      }
    }
    events.onProgress?.({ ...result.probes, line: '', unit: 0, found: result.devices.length });
    return result;
  } finally {
    result.interrupted = result.probes.done < result.probes.total && result.error === undefined;
    result.durationMs = Date.now() - started;
  }
}

export interface ExamineOptions {
  profiles: Profile[];
  timeoutMs: number;
  /** How many addresses from 0x0000 to survey in FC03 and FC04 (default 16). */
  surveySpan?: number;
}

/** The probe a scan sends each unit: FC03, address 0, one register. Null when nothing valid came back. */
export async function probeUnit(session: FieldBusSession, unit: number): Promise<{ answer: ProbeAnswer | null; failure?: string; portDown?: boolean }> {
  const outcome = await session.read(unit, PROBE);
  if (outcome.ok) return { answer: { kind: 'registers', words: outcome.registers ?? [] } };
  if (outcome.failure === 'exception' && outcome.exceptionCode !== undefined) {
    return { answer: { kind: 'exception', code: outcome.exceptionCode, text: describeException(outcome.exceptionCode) } };
  }
  return { answer: null, failure: `${outcome.failure}: ${outcome.detail}`, portDown: outcome.failure === 'port-down' };
}

/** Profiles and registers of a unit that answered. */
export async function examineDevice(
  session: FieldBusSession,
  plan: ExamineOptions,
  unit: number,
  line: LineSettings | null,
  text: string,
  answer: ProbeAnswer,
  shouldStop: () => boolean = () => false,
): Promise<FoundDevice> {
  const verdict = await matchProfiles(
    plan.profiles,
    unit,
    (profile) => (block) =>
      session.read(unit, block, {
        timeoutMs: Math.max(plan.timeoutMs, profile.timeoutMs ?? 0),
        requestGapMs: profile.requestGapMs ?? 0,
      }),
    shouldStop,
  );
  const registers = new Map<string, AnsweredRegister>();
  const note = (r: AnsweredRegister): void => void registers.set(`${r.fn}/${r.address}`, r);
  for (const fn of [3, 4] as const) {
    for (const r of await surveySpan(fn, 0, plan.surveySpan ?? SURVEY_SPAN, (block) => session.read(unit, block), shouldStop)) note(r);
  }
  const strongest = verdict.best ? [verdict.best] : verdict.tied;
  for (const match of verdict.candidates.filter((m) => strongest.includes(m.profileId))) {
    for (const reading of match.readings) {
      if (reading.fn === null || reading.address === null || reading.raw === null) continue;
      const fn = reading.fn as AnsweredRegister['fn'];
      reading.raw.split(' ').forEach((hex, i) => note({ fn, address: reading.address! + i, value: Number.parseInt(hex, 16) }));
    }
  }
  return {
    unit,
    line,
    lineText: text,
    answer,
    profile: verdict.best,
    tied: verdict.tied,
    candidates: verdict.candidates,
    rejected: verdict.rejected.map((m) => ({ profileId: m.profileId, why: m.against })),
    registers: [...registers.values()].sort((a, b) => a.fn - b.fn || a.address - b.address),
    partial: shouldStop(),
  };
}
