import type { EventPayload } from '../payloads.js';

/**
 * A safety event as the platform contracts carry it (docs/platform.md, the "event" object): type, what it is
 * about, value, rule and cause, with the fields an event does not have left out.
 */
export function eventFields(e: EventPayload): Record<string, unknown> {
  return {
    type: e.type,
    ...(e.channelId === undefined ? {} : { channel: e.channelId }),
    ...(e.outputId === undefined ? {} : { output: e.outputId }),
    ...(e.level === undefined ? {} : { level: e.level }),
    ...(e.grade === undefined ? {} : { grade: e.grade }),
    value: e.value,
    ...(e.unit === undefined ? {} : { unit: e.unit }),
    ...(e.setpoint === undefined ? {} : { setpoint: e.setpoint }),
    rule: e.rule,
    ...(e.cause === undefined ? {} : { cause: e.cause }),
    ...(e.by === undefined ? {} : { by: e.by }),
  };
}
