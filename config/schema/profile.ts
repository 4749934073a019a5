import { z } from 'zod';
import { byteOrder, serialLine } from './common.js';

/**
 * A driver profile: the register map of one device model. Technicians write these in YAML; nothing in a
 * profile is guessed (the address base in particular is always stated).
 */

export const registerName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/, 'a register name in lower_snake_case, starting with a letter');

export const registerType = z.enum(['u16', 's16', 'u32', 's32', 'f32', 'bit', 'bitfield']).meta({
  description:
    'u16/s16: one register; u32/s32/f32: two registers in the byteOrder; bit: a coil/discrete input (FC1/FC2) ' +
    'or one bit of a register (with "bit"); bitfield: an unsigned field of a register (with "bits").',
});

/** "8-11" or "3": an inclusive bit range of a 16-bit register, bit 0 least significant. */
export const bitRange = z
  .string()
  .regex(/^(\d|1[0-5])(-(\d|1[0-5]))?$/, 'a bit or bit range of a 16-bit register, like "3" or "8-11"');

export const deviceState = z
  .enum([
    'ok',
    'warm-up',
    'sensor-fault',
    'sensor-lost',
    'needs-calibration',
    'data-error',
    'over-range',
    'low-alarm',
    'high-alarm',
  ])
  .meta({
    description:
      'What the device says about its own measurement. ok, low-alarm and high-alarm leave the value good; ' +
      'warm-up and over-range make it uncertain; the others make it bad.',
  });

export const stateMap = z
  .strictObject({
    values: z
      .record(z.string().regex(/^(0x[0-9a-fA-F]+|\d+)$/, 'a register value, decimal or 0x hex'), deviceState)
      .optional()
      .meta({ description: 'The whole register value (or "bits" field) → state.' }),
    bits: z
      .record(z.string().regex(/^(\d|1[0-5])$/, 'a bit number 0-15'), deviceState)
      .optional()
      .meta({ description: 'Bit number → state when that bit is set. The most severe set bit wins.' }),
    bitsClear: z
      .record(z.string().regex(/^(\d|1[0-5])$/, 'a bit number 0-15'), deviceState)
      .optional()
      .meta({ description: 'Bit number → state when that bit is clear (e.g. bit 15 clear = still warming up).' }),
    otherwise: deviceState
      .default('data-error')
      .meta({ description: 'State for a value not in "values" (ignored when only bits are used).' }),
  })
  .meta({ description: 'How a status register translates into device states.' });

const fromRegister = z.strictObject({
  register: registerName.meta({ description: 'The register this is taken from.' }),
  bits: bitRange.optional().meta({ description: 'Only these bits of it.' }),
});

export const decimalsFrom = fromRegister
  .extend({
    map: z
      .record(z.string().regex(/^(0x[0-9a-fA-F]+|\d+)$/, 'a register value, decimal or 0x hex'), z.number().int().min(0).max(6))
      .optional()
      .meta({ description: 'Field value → number of decimals; without a map the field is the decimal count.' }),
  })
  .meta({ description: 'Divide the value by 10^decimals, the decimals read from another register.' });

export const unitFrom = fromRegister
  .extend({
    map: z
      .record(z.string().regex(/^(0x[0-9a-fA-F]+|\d+)$/, 'a register value, decimal or 0x hex'), z.string().min(1))
      .meta({ description: 'Field value → unit text.' }),
  })
  .meta({ description: 'The unit read from another register: field value → unit text.' });

export const physicalRange = z
  .strictObject({
    min: z.number().meta({ description: 'Lowest value the sensor can report, in the engineering unit.' }),
    max: z.number().meta({ description: 'Highest value the sensor can report, in the engineering unit.' }),
  })
  .refine((r) => r.min < r.max, { message: 'min must be below max' })
  .meta({ description: 'What the sensor can physically report; a value outside it is a fault (out-of-range).' });

const registerCommon = {
  name: registerName.meta({ description: 'The register name channels map to; lower_snake_case, unique in the profile.' }),
  description: z.string().optional().meta({ description: 'What the value is, for people.' }),
  unit: z.string().min(1).optional().meta({ description: 'Engineering unit, e.g. "ppm", "%LEL", "mm".' }),
  unitFrom: unitFrom.optional(),
  range: physicalRange.optional(),
  status: registerName.optional().meta({ description: 'A status register (with "states") that qualifies this value.' }),
};

export const readRegister = z
  .strictObject({
    ...registerCommon,
    fn: z.literal([1, 2, 3, 4]).meta({
      description: 'Modbus read function: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers.',
    }),
    address: z.number().int().min(0).max(65536).meta({
      description: "Address as the device's manual writes it, in the profile's addressBase.",
    }),
    type: registerType.default('u16'),
    byteOrder: byteOrder.optional().meta({ description: "For 32-bit types; defaults to the profile's byteOrder." }),
    bit: z.number().int().min(0).max(15).optional().meta({ description: 'For type bit on a register (FC3/FC4).' }),
    bits: bitRange.optional().meta({ description: 'For type bitfield.' }),
    scale: z.number().default(1).meta({ description: 'value = raw × scale + offset.' }),
    offset: z.number().default(0).meta({ description: 'Added after scaling.' }),
    decimalsFrom: decimalsFrom.optional(),
    sentinels: z
      .array(z.number().int().min(0).max(0xffffffff))
      .optional()
      .meta({ description: 'Raw values that mean "no data" (e.g. 0xFFFF, 0x7FFF, 0x8000).' }),
    states: stateMap.optional(),
    writable: z.boolean().default(false).meta({ description: 'May be written (FC5/FC6/FC16) by commands.' }),
  })
  .meta({ description: 'A value read from the device.' });

export const computedRegister = z
  .strictObject({
    ...registerCommon,
    compute: z.string().min(1).meta({
      description:
        'An arithmetic expression over other registers (by name) and params: + - * / ^, parentheses, ' +
        'abs, sqrt, min, max. E.g. "G * (frequency^2 / 1000 - R0) + K * (temperature - T0)".',
    }),
    params: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a param name of letters, digits and "_", starting with a letter'),
        z.strictObject({
          description: z.string().optional().meta({ description: 'What the param is, e.g. "gauge factor (mm/digit)".' }),
          default: z.number().optional().meta({ description: 'Used when a channel does not give the param.' }),
        }),
      )
      .default({})
      .meta({ description: 'Per-device constants the expression uses; each channel supplies them (or the default).' }),
  })
  .meta({ description: 'A value computed from other registers of the same device.' });

export const profileRegister = z.union([readRegister, computedRegister]);

export const profile = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Path or URL of the JSON Schema, for editors.' }),
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a profile id in lower-kebab-case')
      .meta({ description: 'What a device\'s "profile" refers to; unique across all profile folders searched.' }),
    name: z.string().min(1).meta({ description: 'Maker and model, for people.' }),
    description: z.string().optional().meta({ description: 'What the device is and where its manual came from.' }),
    addressBase: z.literal([0, 1]).meta({
      description:
        'Whether the addresses below count from 0 (the PDU address, as most Chinese manuals print in hex) or ' +
        'from 1 (as "register 1" / 40001-style manuals do). Required: never guessed.',
    }),
    byteOrder: byteOrder.default('ABCD'),
    serial: serialLine.optional().meta({ description: 'Factory line settings; used by scan and as a hint.' }),
    defaultUnitId: z
      .number()
      .int()
      .min(1)
      .max(247)
      .optional()
      .meta({ description: 'Factory Modbus unit id; used by scan and as a hint.' }),
    timeoutMs: z
      .number()
      .int()
      .min(10)
      .max(30_000)
      .optional()
      .meta({ description: 'Response timeout this model needs (e.g. readers that excite a vibrating wire).' }),
    requestGapMs: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .meta({ description: 'Extra silence this device needs before each request to it.' }),
    maxRegistersPerRead: z
      .number()
      .int()
      .min(1)
      .max(125)
      .default(125)
      .meta({ description: 'Largest read this model accepts, in registers.' }),
    maxGap: z
      .number()
      .int()
      .min(0)
      .max(124)
      .default(8)
      .meta({ description: 'Unused registers a merged read may span between two wanted ones.' }),
    registers: z.array(profileRegister).min(1).meta({ description: 'Everything the device offers, read or computed.' }),
  })
  .meta({ title: 'Vigil driver profile', description: 'The register map of one device model.' });

export type ProfileInput = z.input<typeof profile>;
export type Profile = z.output<typeof profile>;
export type ProfileRegister = z.output<typeof profileRegister>;
export type ReadRegister = z.output<typeof readRegister>;
export type ComputedRegister = z.output<typeof computedRegister>;
export type DeviceState = z.output<typeof deviceState>;
export type StateMap = z.output<typeof stateMap>;
export type RegisterType = z.output<typeof registerType>;

export function isComputed(register: ProfileRegister): register is ComputedRegister {
  return 'compute' in register;
}
