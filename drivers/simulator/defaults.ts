/**
 * What an unscripted register of a simulated device holds: something a healthy device in a quiet place would
 * report, so a simulation file only needs to script what a scenario is about.
 */
import type { ReadRegister } from '../../config/schema/index.js';

const BY_NAME: Readonly<Record<string, number>> = {
  temperature: 20,
  humidity: 50,
  frequency: 1500,
  full_scale: 100,
  low_setpoint: 20,
  high_setpoint: 50,
};

const BY_UNIT: Readonly<Record<string, number>> = {
  '°c': 20,
  c: 20,
  '%rh': 50,
  hz: 1500,
};

/** Engineering value for a register without a script (status registers are set through their states instead). */
export function defaultValue(register: ReadRegister, unitId: number): number {
  if (register.type === 'bit') return 0;
  if (register.name === 'device_address') return unitId;
  const range = register.range;
  let value =
    BY_NAME[register.name] ??
    (register.unit ? BY_UNIT[register.unit.toLowerCase()] : undefined) ??
    // a little gas, well below any alarm: a live probe rarely reads exactly zero
    (register.name.includes('concentration') ? (range ? range.min + (range.max - range.min) * 0.02 : 1) : 0);
  if (range) value = Math.min(range.max, Math.max(range.min, value));
  return value;
}
