import { performance } from 'node:perf_hooks';
import type { ReadFunction, TransactionOutcome } from '../../../drivers/modbus/index.js';
import { describeException, MAX_READ_BITS, MAX_READ_REGISTERS } from '../../../drivers/modbus/index.js';
import {
  decodeTable,
  describeTransport,
  FieldBusSession,
  formatAddress,
  readWithProfile,
  renderDecodeTable,
  type RegisterReading,
} from '../../technician/index.js';
import { BUS_OPTIONS, integerOption, transportOf } from '../bus-args.js';
import type { Command } from '../command.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, UsageError } from '../exit-codes.js';
import { resolveProfile } from '../profile-source.js';

const TABLE_NAMES: Record<ReadFunction, string> = { 1: 'coils', 2: 'discrete inputs', 3: 'holding registers', 4: 'input registers' };

export function failureText(outcome: Extract<TransactionOutcome, { ok: false }>, unit: number): string {
  if (outcome.failure === 'exception' && outcome.exceptionCode !== undefined) {
    return `unit ${unit} answered ${describeException(outcome.exceptionCode)}`;
  }
  if (outcome.failure === 'timeout') return `no answer from unit ${unit} (${outcome.detail})`;
  return `unit ${unit}: ${outcome.failure}: ${outcome.detail}`;
}

export function failureJson(outcome: Extract<TransactionOutcome, { ok: false }>): Record<string, unknown> {
  return { failure: outcome.failure, detail: outcome.detail, ...(outcome.exceptionCode === undefined ? {} : { exceptionCode: outcome.exceptionCode }) };
}

function readingsTable(readings: RegisterReading[]): string {
  const lines = [`${'register'.padEnd(16)} ${'address'.padEnd(8)} ${'raw'.padEnd(10)} ${'value'.padStart(12)} ${'unit'.padEnd(7)} quality`];
  for (const r of readings) {
    const address = r.address === null ? 'computed' : formatAddress(r.address);
    const value = r.value === null ? '—' : String(r.value);
    const quality = r.reason ? `${r.quality} (${r.reason})` : r.quality;
    lines.push(
      `${r.register.padEnd(16)} ${address.padEnd(8)} ${(r.raw ?? '').padEnd(10)} ${value.padStart(12)} ${r.unit.padEnd(7)} ${quality}${r.detail ? `  ${r.detail}` : ''}`,
    );
  }
  return lines.join('\n');
}

export const readCommand: Command = {
  name: 'read',
  summary: 'Read registers from one device and show them decoded every way (or through a profile).',
  usage: 'vigil read (--port PATH | --tcp HOST:PORT) [--unit N] [--fc 3|4|1|2] [--address A] [--count N] [--profile NAME|FILE] [--json]',
  details:
    'Prints the raw words in hex with u16 and s16, and every 32-bit reading (u32, s32, f32) in the four byte\n' +
    'orders ABCD (big-endian), CDAB (word swap), BADC (byte swap), DCBA (little-endian) side by side: find the\n' +
    'column that shows the number on the probe\'s display. Addresses are PDU addresses (0-based, as most manuals\n' +
    'print them in hex); --one-based takes the "register 1" numbering instead. With --profile, every register of\n' +
    'the profile is read and decoded as the agent would (value, unit, quality). Exit 1 when the device does not\n' +
    'answer or answers with an exception.',
  options: {
    ...BUS_OPTIONS,
    unit: { type: 'string', valueName: 'N', description: 'Modbus unit id, 1-247 (default 1).' },
    fc: { type: 'string', valueName: 'FN', description: '3 holding registers (default), 4 input registers, 1 coils, 2 discrete inputs.' },
    address: { type: 'string', valueName: 'A', description: 'First address, decimal or 0x hex (default 0).' },
    count: { type: 'string', valueName: 'N', description: 'How many registers (or bits) to read (default 2).' },
    'one-based': { type: 'boolean', description: 'The address counts from 1 (manual says "register 1"): 1 is sent as 0.' },
    profile: { type: 'string', valueName: 'NAME|FILE', description: 'Read every register of this profile and decode it.' },
    'profile-dir': { type: 'string', valueName: 'DIR', description: 'An extra folder of driver profiles.' },
    retries: { type: 'string', valueName: 'N', description: 'Retries of a read that timed out or came back garbled (default 1).' },
    json: { type: 'boolean', description: 'Print the result as JSON.' },
  },
  async run(args, { stdout }) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const transport = transportOf(args);
    const unit = integerOption(args, 'unit', 1, 247, 1);
    const timeoutMs = integerOption(args, 'timeout', 10, 30_000, 500);
    const retries = integerOption(args, 'retries', 0, 5, 1);
    const json = args.values.json === true;
    const profileName = typeof args.values.profile === 'string' ? args.values.profile : undefined;
    const profileDir = typeof args.values['profile-dir'] === 'string' ? args.values['profile-dir'] : undefined;

    if (profileName !== undefined) {
      for (const option of ['fc', 'address', 'count', 'one-based']) {
        if (args.values[option] !== undefined) throw new UsageError(`--${option} does not go with --profile (the profile says what to read)`);
      }
      const profile = resolveProfile(profileName, profileDir);
      const session = await FieldBusSession.open(transport, { timeoutMs: Math.max(timeoutMs, profile.timeoutMs ?? 0), retries });
      try {
        const result = await readWithProfile(profile, unit, (block) => session.read(unit, block, { requestGapMs: profile.requestGapMs ?? 0 }));
        const failed = result.transactions.filter((t) => !t.outcome.ok).length;
        if (json) {
          stdout.write(
            JSON.stringify(
              { ok: failed === 0, bus: describeTransport(transport), unit, profile: profile.id, readings: result.readings, skipped: result.skipped },
              null,
              2,
            ) + '\n',
          );
        } else {
          stdout.write(`unit ${unit} on ${describeTransport(transport)} through profile ${profile.id} (${profile.name})\n\n`);
          stdout.write(readingsTable(result.readings) + '\n');
          if (result.skipped.length > 0) {
            stdout.write(`\nnot shown (need per-gauge params from the site): ${result.skipped.join(', ')}\n`);
          }
          if (failed > 0) stdout.write(`\n${failed} of ${result.transactions.length} read(s) failed.\n`);
        }
        return failed === 0 ? EXIT_OK : EXIT_RUNTIME_FAILURE;
      } finally {
        await session.close();
      }
    }

    const fn = integerOption(args, 'fc', 1, 4, 3) as ReadFunction;
    const oneBased = args.values['one-based'] === true;
    const written = integerOption(args, 'address', oneBased ? 1 : 0, oneBased ? 65536 : 65535, oneBased ? 1 : 0);
    const address = oneBased ? written - 1 : written;
    const max = fn <= 2 ? MAX_READ_BITS : MAX_READ_REGISTERS;
    const count = integerOption(args, 'count', 1, max, Math.min(2, 65536 - address));
    if (address + count > 65536) throw new UsageError(`--address ${address} with --count ${count} runs past 0xFFFF`);

    const session = await FieldBusSession.open(transport, { timeoutMs, retries });
    try {
      const started = performance.now();
      const outcome = await session.read(unit, { fn, address, count });
      const ms = Math.round(performance.now() - started);
      const header = {
        bus: describeTransport(transport),
        unit,
        fc: fn,
        table: TABLE_NAMES[fn],
        address,
        count,
      };
      if (!outcome.ok) {
        if (json) stdout.write(JSON.stringify({ ok: false, ...header, ...failureJson(outcome) }, null, 2) + '\n');
        else stdout.write(`${failureText(outcome, unit)}\n`);
        return EXIT_RUNTIME_FAILURE;
      }
      const where = `FC${String(fn).padStart(2, '0')} ${TABLE_NAMES[fn]} ${formatAddress(address)}${count > 1 ? `-${formatAddress(address + count - 1)}` : ''} (${count})`;
      if (fn <= 2) {
        const bits = (outcome.bits ?? []).slice(0, count);
        if (json) stdout.write(JSON.stringify({ ok: true, ...header, bits: bits.map((b) => (b ? 1 : 0)) }, null, 2) + '\n');
        else {
          stdout.write(`unit ${unit} on ${header.bus} · ${where} · ${ms} ms\n\n`);
          bits.forEach((bit, i) => stdout.write(`${formatAddress(address + i)}  ${bit ? '1 (on)' : '0 (off)'}\n`));
        }
        return EXIT_OK;
      }
      const registers = outcome.registers ?? [];
      const table = decodeTable(address, registers);
      if (json) {
        stdout.write(JSON.stringify({ ok: true, ...header, registers, ...table }, null, 2) + '\n');
      } else {
        stdout.write(`unit ${unit} on ${header.bus} · ${where} · ${ms} ms\n\n`);
        stdout.write(renderDecodeTable(table) + '\n');
      }
      return EXIT_OK;
    } finally {
      await session.close();
    }
  },
};
