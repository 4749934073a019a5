import type { AlarmLevelName, GasKind } from '../../../config/schema/index.js';

/**
 * Default alarm levels per gas (docs/safety.md, domain notes §2–3):
 * - CH4: GB/T 50493-2019 — 1st alarm ≤ 25 %LEL, 2nd ≤ 50 %LEL; we ship 20 / 50 %LEL.
 * - H2S, CO, NH3: GB/T 50493-2019 — 1st alarm ≤ 100 % OEL, 2nd ≤ 200 % OEL, with the OELs of GBZ 2.1
 *   (H2S MAC 10 mg/m³; CO, NH3 PC-TWA 20 mg/m³), in ppm at 20 °C (ppm = mg/m³ × 24.04 / M), rounded down.
 * - O2: OSHA 1910.146 acceptable band 19.5–23.5 %vol (L1); L2 below 18 %vol (engineering judgement).
 * Deadband 20 % of the setpoint (O2: 0.5 %vol), delay-on 5 s, delay-off 0, L2 latched (vendor practice, GB 16808).
 */

export type Direction = 'rising' | 'falling' | 'band';

export interface DefaultLevel {
  direction: Direction;
  setpoint?: number;
  low?: number;
  high?: number;
  /** An absolute deadband where the default is not 20 % of the setpoint. */
  deadband?: number;
}

export interface GasDefaults {
  setpointUnit: string;
  levels: Readonly<Record<AlarmLevelName, DefaultLevel>>;
  /** The same levels written in another unit, where a standard states them there (GBZ 2.1 gives mg/m³). */
  alternatives?: Readonly<Record<string, Readonly<Record<AlarmLevelName, DefaultLevel>>>>;
}

const rising = (l1: number, l2: number): Record<AlarmLevelName, DefaultLevel> => ({
  L1: { direction: 'rising', setpoint: l1 },
  L2: { direction: 'rising', setpoint: l2 },
});

export const GAS_DEFAULTS: Readonly<Record<GasKind, GasDefaults>> = {
  ch4: { setpointUnit: '%LEL', levels: rising(20, 50) },
  h2s: { setpointUnit: 'ppm', levels: rising(7, 14), alternatives: { 'mg/m3': rising(10, 20) } },
  co: { setpointUnit: 'ppm', levels: rising(17, 34), alternatives: { 'mg/m3': rising(20, 40) } },
  nh3: { setpointUnit: 'ppm', levels: rising(28, 56), alternatives: { 'mg/m3': rising(20, 40) } },
  o2: {
    setpointUnit: '%vol',
    levels: {
      L1: { direction: 'band', low: 19.5, high: 23.5, deadband: 0.5 },
      L2: { direction: 'falling', setpoint: 18, deadband: 0.5 },
    },
  },
};

/** Delay-on of gas levels when none is written: a single spike does not start a fan. */
export const GAS_DELAY_ON_MS = 5000;
/** Default deadband of a rising or falling level, as a fraction of its setpoint. */
export const DEADBAND_FRACTION = 0.2;
/** Default deadband of a band level without a gas default, as a fraction of the band's width. */
export const BAND_DEADBAND_FRACTION = 0.1;
