/**
 * The one shape every field driver produces. A reading is a fact about one channel at one instant:
 * either a value with its unit, or no value with the reason why. A failure is never a number.
 */

export type Quality = 'good' | 'uncertain' | 'bad';

/** Why a reading is not plainly good. Stable strings: they appear on the platform contract. */
export type QualityReason =
  // the transaction failed
  | 'timeout'
  | 'crc'
  | 'framing'
  | 'exception'
  | 'port-down'
  | 'breaker-open'
  // the device answered, but says its sensor cannot be trusted
  | 'sensor-fault'
  | 'sensor-lost'
  | 'needs-calibration'
  | 'data-error'
  | 'warm-up'
  | 'over-range'
  // the value itself is implausible
  | 'sentinel'
  | 'out-of-range'
  | 'stuck';

export interface ClockStamp {
  /** Wall-clock time, ms since the Unix epoch, as the gateway believed it when the reading was taken. */
  wallTs: number;
  /** Monotonic time, ms since an arbitrary origin in this process; never jumps. */
  monoTs: number;
  /** Whether the wall clock was known to be synchronised when the reading was taken. */
  clockSynced: boolean;
}

export interface Reading extends ClockStamp {
  channelId: string;
  deviceId: string;
  /** Engineering value; null whenever quality is bad. */
  value: number | null;
  unit: string;
  quality: Quality;
  reason?: QualityReason;
  /** Human detail for the reason, e.g. "Modbus exception 2 (illegal data address)". */
  detail?: string;
}
