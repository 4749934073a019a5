import type { Quality, QualityReason } from '../../drivers/reading.js';
import type { SafetyEvent } from '../safety/events.js';
import type { OutboxRecord } from './outbox-port.js';

/**
 * What the recorder puts into the outbox, and what the uplink hands to a platform profile. The stamps (wall,
 * monotonic, synced) live on the outbox record, not here.
 */
export interface TelemetryPayload {
  channelId: string;
  deviceId: string;
  /** The platform's indicator code at the time of the reading (unified indicator system). */
  indicator?: string;
  value: number | null;
  unit: string;
  quality: Quality;
  reason?: QualityReason;
  detail?: string;
}

/** Events are stored as the safety side emitted them. */
export type EventPayload = SafetyEvent;

/** How far the timestamp of a record can be trusted. */
export type ClockFlag = 'synced' | 'corrected' | 'unsynced';

interface DeliveryBase {
  seq: number;
  /** Wall time in ms UTC: the corrected time where the outbox knows it, else the time as stamped. */
  ts: number;
  clock: ClockFlag;
  /** Replayed from the backlog rather than sent as it happened. */
  historical: boolean;
}

export interface TelemetryDelivery extends DeliveryBase {
  stream: 'telemetry';
  reading: TelemetryPayload;
}

export interface EventDelivery extends DeliveryBase {
  stream: 'event';
  event: EventPayload;
}

export type Delivery = TelemetryDelivery | EventDelivery;

const QUALITIES: ReadonlySet<string> = new Set(['good', 'uncertain', 'bad']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isTelemetryPayload(value: unknown): value is TelemetryPayload {
  return (
    isObject(value) &&
    typeof value.channelId === 'string' &&
    typeof value.deviceId === 'string' &&
    (value.value === null || (typeof value.value === 'number' && Number.isFinite(value.value))) &&
    typeof value.unit === 'string' &&
    typeof value.quality === 'string' &&
    QUALITIES.has(value.quality) &&
    (value.indicator === undefined || typeof value.indicator === 'string') &&
    (value.reason === undefined || typeof value.reason === 'string') &&
    (value.detail === undefined || typeof value.detail === 'string')
  );
}

export function isEventPayload(value: unknown): value is EventPayload {
  return (
    isObject(value) &&
    typeof value.type === 'string' &&
    typeof value.rule === 'string' &&
    (value.value === null || typeof value.value === 'number') &&
    typeof value.wallTs === 'number' &&
    typeof value.monoTs === 'number' &&
    typeof value.clockSynced === 'boolean'
  );
}

export function clockFlag(record: Pick<OutboxRecord, 'clockSynced' | 'correctedWallTs'>): ClockFlag {
  if (record.clockSynced) return 'synced';
  return record.correctedWallTs === undefined ? 'unsynced' : 'corrected';
}

/** The record as a profile sees it; undefined when its payload is not one we know (a bug, or a newer writer). */
export function toDelivery(record: OutboxRecord, historical: boolean): Delivery | undefined {
  const base = { seq: record.seq, ts: record.correctedWallTs ?? record.wallTs, clock: clockFlag(record), historical };
  if (record.stream === 'telemetry') {
    return isTelemetryPayload(record.payload) ? { ...base, stream: 'telemetry', reading: record.payload } : undefined;
  }
  return isEventPayload(record.payload) ? { ...base, stream: 'event', event: record.payload } : undefined;
}
