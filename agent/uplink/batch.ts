import type { OutboxRecord } from './outbox-port.js';
import { toDelivery, type EventDelivery, type TelemetryDelivery } from './payloads.js';
import type { OutgoingMessage, PlatformProfile } from './profile.js';

/** One or more MQTT messages and the outbox records they carry (acked together once every message has its PUBACK). */
export interface Batch {
  seqs: number[];
  messages: readonly OutgoingMessage[];
  historical: boolean;
}

/** A profile's answer as a list: profiles may return one message or several. */
export function asMessages(encoded: OutgoingMessage | readonly OutgoingMessage[]): readonly OutgoingMessage[] {
  return Array.isArray(encoded) ? (encoded as readonly OutgoingMessage[]) : [encoded as OutgoingMessage];
}

/** Bytes a record adds to a message, roughly: its JSON payload plus the per-reading envelope. */
export function recordSize(record: OutboxRecord): number {
  try {
    return (JSON.stringify(record.payload)?.length ?? 16) + 96;
  } catch {
    return 1024;
  }
}

export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
}

/**
 * Where the next message starting at `from` ends: an event travels alone; consecutive telemetry records go
 * together up to the record and byte limits (always at least one record).
 */
export function groupEnd(records: readonly OutboxRecord[], sizes: readonly number[], from: number, limits: BatchLimits): number {
  const first = records[from];
  if (!first || first.stream === 'event') return from + 1;
  let end = from + 1;
  let bytes = sizes[from] ?? 0;
  while (end < records.length && end - from < limits.maxRecords) {
    const next = records[end];
    const size = sizes[end] ?? 0;
    if (!next || next.stream !== 'telemetry' || bytes + size > limits.maxBytes) break;
    bytes += size;
    end++;
  }
  return end;
}

export interface Encoded {
  batches: Batch[];
  /** Records whose payload no profile can encode (not a reading or event we know). */
  undecodable: number[];
}

/** Encodes a group (one event, or telemetry records) into messages, halving a group whose message is too big. */
export function encodeGroup(
  profile: PlatformProfile,
  group: readonly OutboxRecord[],
  historical: boolean,
  maxBytes: number,
): Encoded {
  const undecodable: number[] = [];
  const first = group[0];
  if (!first) return { batches: [], undecodable };
  if (first.stream === 'event') {
    const delivery = toDelivery(first, historical);
    if (delivery?.stream !== 'event') return { batches: [], undecodable: [first.seq] };
    return { batches: [{ seqs: [first.seq], messages: asMessages(profile.encodeEvent(delivery as EventDelivery)), historical }], undecodable };
  }
  const deliveries: TelemetryDelivery[] = [];
  for (const record of group) {
    const delivery = toDelivery(record, historical);
    if (delivery?.stream === 'telemetry') deliveries.push(delivery);
    else undecodable.push(record.seq);
  }
  const batches: Batch[] = [];
  const encode = (part: TelemetryDelivery[]): void => {
    if (part.length === 0) return;
    const messages = asMessages(profile.encodeTelemetry(part));
    if (messages.some((m) => m.payload.length > maxBytes) && part.length > 1) {
      const half = Math.ceil(part.length / 2);
      encode(part.slice(0, half));
      encode(part.slice(half));
      return;
    }
    batches.push({ seqs: part.map((d) => d.seq), messages, historical });
  };
  encode(deliveries);
  return { batches, undecodable };
}
