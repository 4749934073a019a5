import type { GasKind } from '../../../config/schema/index.js';

/**
 * Unit handling is explicit: a value is compared with a setpoint only after a conversion by a known rule,
 * never because two numbers happen to sit side by side. Everything else is a fault with a reason.
 *
 * Known rules:
 * - volume fractions: 1 %vol = 10 000 ppm = 10 000 000 ppb (exact);
 * - CH4 %LEL ↔ %vol through the probe's LEL basis (5 %vol = 100 %LEL in Chinese practice, 4.4 in IEC 60079-20-1);
 * - ppm ↔ mg/m³ at 20 °C: ppm = mg/m³ × 24.04 / M, for the gases whose molar mass M is listed here;
 * - lengths for crack gauges: µm, mm, cm, m.
 */

/** Molar masses (g/mol) of the gases that may be given in mg/m³. */
export const MOLAR_MASS: Readonly<Partial<Record<GasKind, number>>> = { h2s: 34.08, co: 28.01, nh3: 17.03 };

/** Molar volume of an ideal gas at 20 °C and 101.325 kPa, litres: the basis of the GBZ mg/m³ ↔ ppm tables. */
export const MOLAR_VOLUME_20C = 24.04;

/** Default CH4 LEL basis: %vol at 100 %LEL (Chinese practice). */
export const DEFAULT_LEL_BASIS = 5;

const ALIASES: Readonly<Record<string, string>> = {
  '%lel': '%LEL',
  lel: '%LEL',
  '%vol': '%vol',
  'vol%': '%vol',
  '%v/v': '%vol',
  ppm: 'ppm',
  ppb: 'ppb',
  'mg/m3': 'mg/m3',
  'mg/m^3': 'mg/m3',
  mm: 'mm',
  cm: 'cm',
  m: 'm',
  um: 'µm',
  'µm': 'µm',
};

/** The canonical spelling of a unit: probes and manuals write "%VOL", "mg/m³", "Mg/M3". Unknown units stay as written. */
export function canonicalUnit(unit: string): string {
  const key = unit.trim().toLowerCase().replace('³', '3').replace('μ', 'µ');
  return ALIASES[key] ?? unit.trim();
}

/** What a conversion may use besides the units themselves. */
export interface UnitContext {
  gas?: GasKind;
  /** CH4 %vol at 100 %LEL; only known when %LEL is meaningful for the channel. */
  lelBasis?: number;
}

type Family = 'fraction' | 'length';

/** Size of one unit in its family's base (ppm for gas fractions, mm for lengths); undefined when unknown. */
function sizeOf(unit: string, context: UnitContext): { family: Family; size: number } | undefined {
  switch (unit) {
    case 'ppb':
      return { family: 'fraction', size: 0.001 };
    case 'ppm':
      return { family: 'fraction', size: 1 };
    case '%vol':
      return { family: 'fraction', size: 10_000 };
    case '%LEL':
      return context.lelBasis === undefined ? undefined : { family: 'fraction', size: context.lelBasis * 100 };
    case 'mg/m3': {
      const molarMass = context.gas === undefined ? undefined : MOLAR_MASS[context.gas];
      return molarMass === undefined ? undefined : { family: 'fraction', size: MOLAR_VOLUME_20C / molarMass };
    }
    case 'µm':
      return { family: 'length', size: 0.001 };
    case 'mm':
      return { family: 'length', size: 1 };
    case 'cm':
      return { family: 'length', size: 10 };
    case 'm':
      return { family: 'length', size: 1000 };
    default:
      return undefined;
  }
}

/** Multiply a value in `from` by `factor` to get it in `to`; or why that cannot be done. */
export type Conversion = { factor: number } | { error: string };

/** `what`: how the message names the other side, e.g. "setpoints" or "crack thresholds". */
export function conversion(from: string, to: string, context: UnitContext, what: string): Conversion {
  const a = canonicalUnit(from);
  const b = canonicalUnit(to);
  if (a === b) return { factor: 1 };
  const sizeFrom = sizeOf(a, context);
  const sizeTo = sizeOf(b, context);
  if (!sizeFrom || !sizeTo || sizeFrom.family !== sizeTo.family) {
    const shown = from.trim() === '' ? '(none)' : from;
    return { error: `unit ${shown} cannot be compared with ${what} in ${to}` };
  }
  return { factor: sizeFrom.size / sizeTo.size };
}

/** Converted values keep ten significant digits: 0.88 %vol × 10 000 / 440 is 20 %LEL, not 19.999999999999996. */
export function convert(value: number, factor: number): number {
  if (factor === 1 || value === 0 || !Number.isFinite(value)) return value;
  const product = value * factor;
  const scale = 10 ** (9 - Math.floor(Math.log10(Math.abs(product))));
  return Math.round(product * scale) / scale;
}
