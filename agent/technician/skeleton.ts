/**
 * A first draft of a driver profile for a device found on the bus: the line settings and unit it answered on,
 * one register per address that answered, the fields of the closest shipped profile where it has a register
 * at the same place, and a TODO wherever only the manual can say. The draft passes `vigil profile check` as
 * written, so a technician can rehearse it with `vigil read --profile FILE` straight away.
 */
import { isComputed, type Profile, type ReadRegister } from '../../config/index.js';
import type { LineSettings } from '../../drivers/modbus/index.js';
import { formatAddress, hex16 } from './decode-table.js';
import type { AnsweredRegister } from './survey.js';

export interface SkeletonInput {
  id: string;
  name?: string;
  unit: number;
  line: LineSettings | null;
  registers: AnsweredRegister[];
  /** The closest shipped profile, whose fields are offered where it has a register at the same place. */
  template?: Profile;
  /** Where the facts came from, for the header comment ("scan of /dev/ttyUSB0 on …"). */
  source: string;
  /** Path of config/profile.schema.json relative to the file written, for editors. */
  schemaPath?: string;
  timeoutMs?: number;
}

const FN_PREFIX: Record<number, string> = { 1: 'coil', 2: 'input', 3: 'hr', 4: 'ir' };

/** YAML-safe scalar text: plain when unambiguous, else double-quoted (JSON strings are YAML). */
function text(value: string): string {
  return /^[A-Za-z][A-Za-z0-9 _./%°()-]*$/.test(value) && !/^(true|false|null|yes|no|on|off)$/i.test(value)
    ? value
    : JSON.stringify(value);
}

function flow(value: unknown): string {
  return JSON.stringify(value).replace(/":/g, '": ').replace(/,"/g, ', "');
}

function templateRegisterAt(template: Profile | undefined, fn: number, address: number): ReadRegister | undefined {
  if (!template) return undefined;
  return template.registers.find(
    (r): r is ReadRegister => !isComputed(r) && r.fn === fn && r.address - template.addressBase === address,
  );
}

function secondWordOf(template: Profile | undefined, fn: number, address: number): boolean {
  const first = templateRegisterAt(template, fn, address - 1);
  return first !== undefined && (first.type === 'u32' || first.type === 's32' || first.type === 'f32');
}

export function writeSkeleton(input: SkeletonInput): string {
  const out: string[] = [];
  if (input.schemaPath) out.push(`# yaml-language-server: $schema=${input.schemaPath}`, '#');
  out.push(
    `# Draft profile from ${input.source}.`,
    '# Addresses are PDU addresses (0-based, as on the wire): addressBase 0. Values in comments are what the',
    '# device answered then. Fill in every TODO from the manual, then: vigil profile check FILE; and compare with',
    '# the display: vigil read --profile FILE --unit N (…).',
  );
  if (input.template) {
    out.push(
      `# Closest shipped profile: ${input.template.id} (${input.template.name}). Its fields are filled in where it has a`,
      `# register at the same address. If the device is one of those, use "${input.template.id}" instead of this file.`,
    );
  }
  out.push(`id: ${input.id}`);
  out.push(`name: ${text(input.name ?? 'TODO maker and model')}`);
  out.push('description: TODO what the device measures, and where its manual came from');
  out.push('addressBase: 0');
  out.push(`byteOrder: ${input.template?.byteOrder ?? 'ABCD'}  # TODO check 32-bit values with vigil read (ABCD, CDAB, BADC, DCBA)`);
  if (input.line) {
    const { baud, dataBits, parity, stopBits } = input.line;
    out.push(`serial: { baud: ${baud}, dataBits: ${dataBits}, parity: ${parity}, stopBits: ${stopBits} }  # as found`);
  } else {
    out.push('# serial: { baud: 9600, dataBits: 8, parity: none, stopBits: 1 }  # TODO factory line settings (found over TCP)');
  }
  out.push(`defaultUnitId: ${input.unit}  # the unit id it answered on; TODO the factory default if different`);
  out.push(`timeoutMs: ${input.template?.timeoutMs ?? input.timeoutMs ?? 500}`);
  if (input.template?.requestGapMs !== undefined) out.push(`requestGapMs: ${input.template.requestGapMs}`);
  out.push('registers:');

  const usable = input.registers.filter((r) => !secondWordOf(input.template, r.fn, r.address));
  const names = new Set<string>();
  const planned = usable.map((answered) => {
    const from = templateRegisterAt(input.template, answered.fn, answered.address);
    let name = from?.name ?? `${FN_PREFIX[answered.fn]}_${answered.address.toString(16).padStart(4, '0')}`;
    if (names.has(name)) name = `${name}_${answered.address.toString(16)}`;
    names.add(name);
    return { answered, from, name };
  });
  if (planned.length === 0) {
    out.push('  # TODO no register answered the survey: add the registers from the manual, e.g.');
    out.push('  - name: value');
    out.push('    description: TODO');
    out.push('    fn: 3');
    out.push('    address: 0x0000');
    out.push('    type: u16');
    return out.join('\n') + '\n';
  }
  for (const { answered, from, name } of planned) {
    const seen =
      answered.fn <= 2
        ? `bit ${answered.value}`
        : `0x${hex16(answered.value)} (${answered.value}${answered.value >= 0x8000 ? `, s16 ${answered.value - 0x10000}` : ''})`;
    out.push('');
    out.push(`  # FC${String(answered.fn).padStart(2, '0')} ${formatAddress(answered.address)} answered ${seen}`);
    out.push(`  - name: ${name}${from ? `  # as in ${input.template!.id}` : '  # TODO a lower_snake_case name'}`);
    out.push(`    description: ${from?.description ? text(from.description) : 'TODO what this register holds'}`);
    out.push(`    fn: ${answered.fn}`);
    out.push(`    address: ${formatAddress(answered.address)}`);
    if (answered.fn <= 2) {
      out.push('    type: bit');
      if (from?.writable) out.push('    writable: true');
      continue;
    }
    const type = from?.type ?? 'u16';
    out.push(`    type: ${type}${from ? '' : '  # TODO u16, s16, u32, s32, f32, bitfield: vigil read shows every decoding'}`);
    if (from?.byteOrder) out.push(`    byteOrder: ${from.byteOrder}`);
    if (from?.bit !== undefined) out.push(`    bit: ${from.bit}`);
    if (from?.bits !== undefined) out.push(`    bits: "${from.bits}"`);
    if (from && from.scale !== 1) out.push(`    scale: ${from.scale}`);
    else if (!from) out.push('    # scale: 1  # TODO value = raw × scale + offset');
    if (from && from.offset !== 0) out.push(`    offset: ${from.offset}`);
    if (from?.unit) out.push(`    unit: ${text(from.unit)}`);
    else if (!from) out.push('    # unit: TODO');
    if (from?.range) out.push(`    range: { min: ${from.range.min}, max: ${from.range.max} }`);
    else if (!from) out.push('    # range: { min: TODO, max: TODO }  # what the sensor can physically report');
    if (from?.sentinels) out.push(`    sentinels: [${from.sentinels.map((s) => `0x${s.toString(16).toUpperCase()}`).join(', ')}]`);
    for (const key of ['decimalsFrom', 'unitFrom'] as const) {
      const field = from?.[key];
      if (!field) continue;
      if (names.has(field.register)) out.push(`    ${key}: ${flow(field)}`);
      else out.push(`    # ${key}: TODO register "${field.register}" did not answer here`);
    }
    if (from?.status) {
      if (names.has(from.status)) out.push(`    status: ${from.status}`);
      else out.push(`    # status: TODO register "${from.status}" did not answer here`);
    }
    if (from?.states) out.push(`    states: ${flow(from.states)}`);
    if (from?.writable) out.push('    writable: true');
  }
  return out.join('\n') + '\n';
}
