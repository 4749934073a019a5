import type { WriteRequest } from '../../bus/index.js';
import { MAX_WRITE_REGISTERS } from '../../../drivers/modbus/index.js';
import { describeTransport, FieldBusSession, formatAddress, hex16 } from '../../technician/index.js';
import { BUS_OPTIONS, integerOption, parseInteger, transportOf } from '../bus-args.js';
import type { Command } from '../command.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, UsageError } from '../exit-codes.js';
import { failureJson, failureText } from './read.js';

function coilValue(text: string): boolean {
  const value = text.trim().toLowerCase();
  if (['1', 'on', 'true'].includes(value)) return true;
  if (['0', 'off', 'false'].includes(value)) return false;
  throw new UsageError(`--value ${JSON.stringify(text)}: a coil is on or off (1/0, on/off, true/false)`);
}

function registerValues(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.length > MAX_WRITE_REGISTERS) throw new UsageError(`--value: at most ${MAX_WRITE_REGISTERS} registers per write`);
  // A negative number is written as its s16 pattern (-1 → 0xFFFF), as a signed register holds it.
  return items.map((item) => parseInteger('value', item, -0x8000, 0xffff) & 0xffff);
}

export const writeCommand: Command = {
  name: 'write',
  summary: 'Write a register (FC06/FC16) or a coil (FC05) of one device, then read it back to confirm.',
  usage: 'vigil write (--port PATH | --tcp HOST:PORT) --unit N --address A --value V[,V…] [--coil] [--fc 5|6|16] [--json]',
  details:
    'Register values are 16-bit words, decimal or 0x hex; a negative value is written as its s16 pattern. One\n' +
    'value is written with FC06, several (comma-separated) with FC16 from the address on; --fc 16 forces FC16 for\n' +
    'one value. --coil writes a coil with FC05 (--value on|off). After the write the same address is read back\n' +
    '(FC03, or FC01 for a coil) and shown. Exit 1 when the write is refused or the read-back differs.\n' +
    'This talks to the device directly: stop the agent first if it owns the same port. To test an output\n' +
    'through the running agent (with its safety rules), use the agent\'s relay test instead.',
  options: {
    ...BUS_OPTIONS,
    unit: { type: 'string', valueName: 'N', description: 'Modbus unit id, 1-247 (required).' },
    address: { type: 'string', valueName: 'A', description: 'Address, decimal or 0x hex (required).' },
    value: { type: 'string', valueName: 'V[,V…]', description: 'Word(s) to write, or on/off with --coil (required).' },
    coil: { type: 'boolean', description: 'Write a coil (FC05) instead of a register.' },
    fc: { type: 'string', valueName: 'FN', description: '5, 6 or 16 (default: 5 with --coil, 6 for one value, 16 for several).' },
    'one-based': { type: 'boolean', description: 'The address counts from 1 (manual says "register 1"): 1 is sent as 0.' },
    json: { type: 'boolean', description: 'Print the result as JSON.' },
  },
  async run(args, { stdout }) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    for (const required of ['unit', 'address', 'value']) {
      if (typeof args.values[required] !== 'string') throw new UsageError(`--${required} is required`);
    }
    const transport = transportOf(args);
    const unit = integerOption(args, 'unit', 1, 247, 1);
    const timeoutMs = integerOption(args, 'timeout', 10, 30_000, 500);
    const oneBased = args.values['one-based'] === true;
    const written = integerOption(args, 'address', oneBased ? 1 : 0, oneBased ? 65536 : 65535, 0);
    const address = oneBased ? written - 1 : written;
    const valueText = args.values.value as string;
    const coil = args.values.coil === true;
    const fcGiven = integerOption(args, 'fc', 5, 16);
    if (fcGiven !== undefined && ![5, 6, 16].includes(fcGiven)) throw new UsageError(`--fc ${fcGiven}: write functions are 5, 6 and 16`);
    if (coil && fcGiven !== undefined && fcGiven !== 5) throw new UsageError(`--coil writes with FC05, not FC${fcGiven}`);
    if (!coil && fcGiven === 5) throw new UsageError('--fc 5 writes a coil: add --coil and --value on|off');

    let request: WriteRequest;
    if (coil) request = { fn: 5, address, value: coilValue(valueText) };
    else {
      const values = registerValues(valueText);
      if (fcGiven === 6 && values.length > 1) throw new UsageError('--fc 6 writes one register; give one value or use --fc 16');
      if (address + values.length > 65536) throw new UsageError(`${values.length} values from ${formatAddress(address)} run past 0xFFFF`);
      request = values.length === 1 && fcGiven !== 16 ? { fn: 6, address, value: values[0]! } : { fn: 16, address, values };
    }
    const wanted = request.fn === 5 ? [request.value ? 1 : 0] : request.fn === 6 ? [request.value] : request.fn === 16 ? request.values : [];
    const fcText = `FC${String(request.fn).padStart(2, '0')}`;
    const shown = (v: number): string => (request.fn === 5 ? (v ? 'on' : 'off') : `0x${hex16(v)} (${v})`);

    const session = await FieldBusSession.open(transport, { timeoutMs, retries: 1 });
    try {
      const base = { bus: describeTransport(transport), unit, fc: request.fn, address, values: wanted };
      const outcome = await session.write(unit, request);
      if (!outcome.ok) {
        if (json(args)) stdout.write(JSON.stringify({ ok: false, ...base, written: false, ...failureJson(outcome) }, null, 2) + '\n');
        else stdout.write(`write refused: ${failureText(outcome, unit)}\n`);
        return EXIT_RUNTIME_FAILURE;
      }
      const back = await session.read(unit, request.fn === 5 ? { fn: 1, address, count: 1 } : { fn: 3, address, count: wanted.length });
      const readBack = back.ok ? (request.fn === 5 ? (back.bits ?? []).slice(0, 1).map((b) => (b ? 1 : 0)) : (back.registers ?? []).slice(0, wanted.length)) : null;
      const confirmed = readBack !== null && readBack.length === wanted.length && readBack.every((v, i) => v === wanted[i]);
      if (json(args)) {
        stdout.write(
          JSON.stringify(
            { ok: readBack === null || confirmed, ...base, written: true, readBack, confirmed, ...(back.ok ? {} : { readBackFailure: failureJson(back) }) },
            null,
            2,
          ) + '\n',
        );
      } else {
        stdout.write(`unit ${unit} on ${base.bus}: ${fcText} ${formatAddress(address)} ← ${wanted.map(shown).join(', ')} · acknowledged\n`);
        if (readBack === null) stdout.write(`read-back failed (${failureText(back as Extract<typeof back, { ok: false }>, unit)}): not confirmed\n`);
        else if (confirmed) stdout.write(`read back ${readBack.map(shown).join(', ')} · confirmed\n`);
        else stdout.write(`read back ${readBack.map(shown).join(', ')} · DIFFERS from what was written: the device did not keep it\n`);
      }
      return readBack !== null && !confirmed ? EXIT_RUNTIME_FAILURE : EXIT_OK;
    } finally {
      await session.close();
    }
  },
};

function json(args: { values: Record<string, unknown> }): boolean {
  return args.values.json === true;
}
