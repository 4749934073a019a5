import type { Quality, QualityReason } from '../../../../drivers/reading.js';
import type { LatestValue } from '../../profile.js';
import type { ChannelMap } from './mapping.js';

/** S1_ZT_1 sensor_state values: 0 ok, −1 power, −2 data, −3 no data. */
export type SensorState = 0 | -1 | -2 | -3;

/** Reasons that mean nothing came back from the sensor; every other problem is a data problem. */
const NO_DATA: ReadonlySet<QualityReason> = new Set(['timeout', 'port-down', 'breaker-open', 'sensor-lost']);

/**
 * Our quality in the platform's terms. A good reading is 0; an uncertain one (warm-up, needs calibration) is
 * sent but flagged −2; a bad one is −3 when the sensor was not heard at all, else −2. We never say −1 (power):
 * no reading of ours tells a power fault from a silent sensor.
 */
export function sensorState(quality: Quality, reason: QualityReason | undefined): SensorState {
  if (quality === 'good') return 0;
  if (quality === 'uncertain') return -2;
  return reason !== undefined && NO_DATA.has(reason) ? -3 : -2;
}

export interface ChannelCondition {
  quality: Quality;
  reason?: QualityReason;
}

/** Per code, the worst state of its channels (most negative); a channel never read is −3 (no data). */
export function sensorStates(map: ChannelMap, latest: ReadonlyMap<string, ChannelCondition>): Map<string, SensorState> {
  const states = new Map<string, SensorState>();
  for (const code of map.codes()) {
    let worst: SensorState = 0;
    for (const target of map.channelsOf(code)) {
      const condition = latest.get(target.channelId);
      const state = condition ? sensorState(condition.quality, condition.reason) : -3;
      if (state < worst) worst = state;
    }
    states.set(code, worst);
  }
  return states;
}

export interface StatusInputs {
  map: ChannelMap;
  latest: readonly LatestValue[];
  /** Newer conditions than latest() knows (the readings of the batch being encoded). */
  overrides?: ReadonlyMap<string, ChannelCondition>;
  statusChannels: Readonly<Partial<Record<StatusField, string>>>;
  swVersion: string | undefined;
  clockSynced: boolean;
}

export type StatusField = 'ext_power_volt' | 'temp' | 'signal_4g';
const STATUS_FIELDS: readonly StatusField[] = ['ext_power_volt', 'temp', 'signal_4g'];

export interface Status {
  body: Record<string, unknown>;
  states: Map<string, SensorState>;
}

/**
 * The S1_ZT_1 object. Power, temperature and signal appear only when a channel measures them and its latest
 * reading is good: a made-up or stale number would be worse than none.
 */
export function buildStatus(inputs: StatusInputs): Status {
  const byChannel = new Map<string, LatestValue>(inputs.latest.map((l) => [l.channelId, l]));
  const conditions = new Map<string, ChannelCondition>();
  for (const l of inputs.latest) conditions.set(l.channelId, { quality: l.quality, ...(l.reason === undefined ? {} : { reason: l.reason }) });
  for (const [channelId, condition] of inputs.overrides ?? []) conditions.set(channelId, condition);
  const states = sensorStates(inputs.map, conditions);
  const body: Record<string, unknown> = {};
  for (const field of STATUS_FIELDS) {
    const channelId = inputs.statusChannels[field];
    const value = channelId === undefined ? undefined : byChannel.get(channelId);
    if (value && value.quality === 'good' && value.value !== null) body[field] = value.value;
  }
  if (inputs.swVersion !== undefined) body.sw_version = inputs.swVersion;
  body.clock_synced = inputs.clockSynced ? 1 : 0;
  body.sensor_state = Object.fromEntries(states);
  return { body, states };
}
