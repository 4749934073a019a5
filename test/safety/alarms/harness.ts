import { site as siteSchema, type Site, type SiteInput } from '../../../config/schema/index.js';
import type { Quality, QualityReason, Reading } from '../../../drivers/reading.js';
import { ManualClock } from '../../../agent/clock/index.js';
import type { SafetyEvent, SafetyEventType } from '../../../agent/safety/events.js';
import { AlarmEngine, type AlarmSnapshot, type ChannelSafetyStatus } from '../../../agent/safety/alarms/index.js';

type DeviceInput = SiteInput['devices'][number];
type ChannelInput = DeviceInput['channels'][number];

/** One device per entry: `{ device: 'tank1-ch4', interval: '1s', channels: [...] }`. */
export function siteWith(
  devices: Array<{ device: string; interval?: string; fastInterval?: string; channels: ChannelInput[] }>,
): Site {
  return siteSchema.parse({
    site: { id: 'test-site', name: 'Test site' },
    buses: [{ id: 'rs485', tcp: { host: 'localhost', port: 4001 } }],
    devices: devices.map((d, i) => ({
      id: d.device,
      bus: 'rs485',
      unit: i + 1,
      profile: 'gas-module-10reg',
      interval: d.interval ?? '1s',
      ...(d.fastInterval ? { fastInterval: d.fastInterval } : {}),
      channels: d.channels,
    })),
  } satisfies SiteInput);
}

/** A site with one channel on one device, the common case. */
export function oneChannel(channel: ChannelInput, device = 'dev1', interval = '1s'): Site {
  return siteWith([{ device, interval, channels: [channel] }]);
}

export interface ReadOptions {
  unit?: string;
  quality?: Quality;
  reason?: QualityReason;
  detail?: string;
}

/**
 * An engine on a manual clock, fed readings by hand: an hour of alarm logic runs in milliseconds, and every
 * event is kept in order so a test can count them.
 */
export class Harness {
  readonly clock: ManualClock;
  readonly events: SafetyEvent[] = [];
  readonly engine: AlarmEngine;
  private readonly deviceOf = new Map<string, string>();
  private readonly unitOf = new Map<string, string>();

  constructor(
    readonly site: Site,
    options: { restore?: AlarmSnapshot; clock?: ManualClock } = {},
  ) {
    this.clock = options.clock ?? new ManualClock();
    for (const device of site.devices) {
      for (const channel of device.channels) {
        this.deviceOf.set(channel.id, device.id);
        if (channel.unit) this.unitOf.set(channel.id, channel.unit);
      }
    }
    this.engine = new AlarmEngine({
      site,
      clock: this.clock,
      emit: (event) => this.events.push(event),
      ...(options.restore ? { restore: options.restore } : {}),
    });
  }

  reading(channelId: string, value: number | null, options: ReadOptions = {}): Reading {
    const quality = options.quality ?? (value === null ? 'bad' : options.reason ? 'uncertain' : 'good');
    return {
      channelId,
      deviceId: this.deviceOf.get(channelId) ?? 'unlisted',
      value,
      unit: options.unit ?? this.unitOf.get(channelId) ?? '',
      quality,
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.detail ? { detail: options.detail } : {}),
      ...this.clock.stamp(),
    };
  }

  /** One good reading (or one with the given quality/reason) at the current time. */
  read(channelId: string, value: number | null, options: ReadOptions = {}): void {
    this.engine.onReadings([this.reading(channelId, value, options)]);
  }

  /** A failed poll. */
  fail(channelId: string, reason: QualityReason = 'timeout'): void {
    this.read(channelId, null, { quality: 'bad', reason });
  }

  /** Lets time pass, ticking the engine every `tickMs` as the agent does. */
  advance(ms: number, tickMs = 1000): void {
    let left = ms;
    while (left > 0) {
      const step = Math.min(tickMs, left);
      this.clock.advance(step);
      this.engine.tick();
      left -= step;
    }
  }

  /** `count` polls `everyMs` apart: read valueAt(i), then let the interval pass. */
  poll(channelId: string, count: number, everyMs: number, valueAt: (i: number) => number | null, options: ReadOptions = {}): void {
    for (let i = 0; i < count; i++) {
      const value = valueAt(i);
      if (value === null) this.fail(channelId, options.reason ?? 'timeout');
      else this.read(channelId, value, options);
      this.advance(everyMs);
    }
  }

  status(channelId: string): ChannelSafetyStatus {
    const status = this.engine.channel(channelId);
    if (!status) throw new Error(`no status for ${channelId}`);
    return status;
  }

  of(type: SafetyEventType, filter: Partial<SafetyEvent> = {}): SafetyEvent[] {
    return this.events.filter(
      (e) => e.type === type && Object.entries(filter).every(([key, value]) => e[key as keyof SafetyEvent] === value),
    );
  }

  /** "alarm-raised L1 @25" lines: a whole scenario's decisions in one readable assertion. */
  story(types: readonly SafetyEventType[] = ['alarm-raised', 'alarm-cleared']): string[] {
    return this.events
      .filter((e) => types.includes(e.type))
      .map((e) => `${e.type}${e.level ? ` ${e.level}` : ''}${e.grade !== undefined ? ` ${e.grade}` : ''} @${e.value}`);
  }

  clearEvents(): void {
    this.events.length = 0;
  }
}

/** A small seeded generator, so noise tests are the same noise every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
