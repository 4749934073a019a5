/**
 * Reading one device through a driver profile, every register it offers at once: used by `vigil read --profile`
 * and by the scan's profile matcher. The decoding is the agent's own (drivers/modbus), so what a technician sees
 * here is what the agent will report.
 */
import { device as deviceSchema, isComputed, type Profile, type ReadRegister } from '../../config/index.js';
import {
  createProfileDevice,
  type ReadBlock,
  type TransactionOutcome,
} from '../../drivers/modbus/index.js';
import type { Quality, QualityReason } from '../../drivers/reading.js';

export type BlockReader = (block: ReadBlock) => Promise<TransactionOutcome>;

export interface RegisterReading {
  register: string;
  /** Null for a computed register. */
  fn: number | null;
  /** PDU address (0-based, as on the wire); null for a computed register. */
  address: number | null;
  /** The raw word(s) or bit as read, hex; null when not read or computed. */
  raw: string | null;
  value: number | null;
  unit: string;
  quality: Quality;
  reason?: QualityReason;
  detail?: string;
}

export interface ProfileReadResult {
  profileId: string;
  readings: RegisterReading[];
  /** Every block asked and what became of it, in order. */
  transactions: Array<{ block: ReadBlock; outcome: TransactionOutcome }>;
  /** Computed registers left out because a param has no default (a site gives it per gauge). */
  skipped: string[];
}

function needsSiteParams(register: Profile['registers'][number]): boolean {
  return isComputed(register) && Object.values(register.params).some((p) => p.default === undefined);
}

/** The registers a probe reads: all read registers, and computed ones whose params all have defaults. */
export function probeRegisters(profile: Profile): { names: string[]; skipped: string[] } {
  const skipped = new Set<string>();
  // A computed register built on one that is skipped is skipped too.
  let changed = true;
  while (changed) {
    changed = false;
    for (const register of profile.registers) {
      if (skipped.has(register.name) || !isComputed(register)) continue;
      const usesSkipped = [...skipped].some((name) => new RegExp(`\\b${name}\\b`).test(register.compute));
      if (needsSiteParams(register) || usesSkipped) {
        skipped.add(register.name);
        changed = true;
      }
    }
  }
  return { names: profile.registers.map((r) => r.name).filter((n) => !skipped.has(n)), skipped: [...skipped] };
}

function rawOf(register: ReadRegister, profile: Profile, transactions: ProfileReadResult['transactions']): string | null {
  const pdu = register.address - profile.addressBase;
  const width = register.type === 'u32' || register.type === 's32' || register.type === 'f32' ? 2 : 1;
  for (const { block, outcome } of transactions) {
    if (block.fn !== register.fn || pdu < block.address || pdu + width > block.address + block.count || !outcome.ok) continue;
    const offset = pdu - block.address;
    if (register.fn <= 2) {
      const bit = outcome.bits?.[offset];
      return bit === undefined ? null : bit ? '1' : '0';
    }
    const words = outcome.registers?.slice(offset, offset + width);
    if (!words || words.length < width) return null;
    return words.map((w) => w.toString(16).toUpperCase().padStart(4, '0')).join(' ');
  }
  return null;
}

/** Reads every register of the profile from one unit and decodes it as the agent would. */
export async function readWithProfile(profile: Profile, unit: number, read: BlockReader): Promise<ProfileReadResult> {
  const { names, skipped } = probeRegisters(profile);
  const device = deviceSchema.parse({
    id: 'probe',
    bus: 'technician',
    unit,
    profile: profile.id,
    channels: names.map((name) => ({ id: name, register: name })),
  });
  const driver = createProfileDevice(profile, device);
  const plan = driver.planPoll(names);
  const transactions: ProfileReadResult['transactions'] = [];
  for (const block of plan.blocks) transactions.push({ block, outcome: await read(block) });
  const stamp = { wallTs: Date.now(), monoTs: performance.now(), clockSynced: true };
  const byName = new Map(profile.registers.map((r) => [r.name, r]));
  const readings = driver.decode(plan, transactions.map((t) => t.outcome), stamp).map((reading): RegisterReading => {
    const register = byName.get(reading.channelId)!;
    const computed = isComputed(register);
    const out: RegisterReading = {
      register: reading.channelId,
      fn: computed ? null : register.fn,
      address: computed ? null : register.address - profile.addressBase,
      raw: computed ? null : rawOf(register, profile, transactions),
      value: reading.value,
      unit: reading.unit,
      quality: reading.quality,
    };
    if (reading.reason !== undefined) out.reason = reading.reason;
    if (reading.detail !== undefined) out.detail = reading.detail;
    return out;
  });
  return { profileId: profile.id, readings, transactions, skipped };
}
