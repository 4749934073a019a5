import type { Site, Bus } from '../../config/schema/site.js';
import { isSerialBus } from '../../config/schema/site.js';
import type { Profile } from '../../config/schema/profile.js';
import { createProfileDevice } from '../../drivers/modbus/index.js';
import { ModbusBus, type BusOptions } from '../bus/index.js';
import { PollScheduler } from '../acquisition/index.js';
import { createSystemClock, type Clock } from '../clock/index.js';
import type { Logger } from '../log/index.js';
import { LatestReadings, ReadingStream } from '../readings/index.js';

export interface AgentOptions {
  site: Site;
  profiles: ReadonlyMap<string, Profile>;
  logger: Logger;
  clock?: Clock;
}

/** A running gateway: buses opened, devices polled, readings flowing. */
export interface RunningAgent {
  readonly site: Site;
  readonly stream: ReadingStream;
  readonly latest: LatestReadings;
  readonly buses: ReadonlyMap<string, ModbusBus>;
  readonly scheduler: PollScheduler;
  readonly clock: Clock;
  stop(): Promise<void>;
}

function busOptions(bus: Bus, logger: Logger): BusOptions {
  const common = { id: bus.id, timeoutMs: bus.timeoutMs, retries: bus.retries, logger: logger.child({ bus: bus.id }) };
  const withGuard = bus.guardMs === undefined ? common : { ...common, guardMs: bus.guardMs };
  if (isSerialBus(bus)) {
    const { path, ...line } = bus.serial;
    return { ...withGuard, transport: { kind: 'serial', path, line } };
  }
  const transport = bus.line
    ? { kind: 'tcp' as const, host: bus.tcp.host, port: bus.tcp.port, line: bus.line }
    : { kind: 'tcp' as const, host: bus.tcp.host, port: bus.tcp.port };
  return { ...withGuard, transport };
}

/** Wires a validated site into buses, drivers and the poll scheduler, and starts polling at once. */
export function startAgent(options: AgentOptions): RunningAgent {
  const { site, profiles, logger } = options;
  const clock = options.clock ?? createSystemClock();
  const stream = new ReadingStream((error) => logger.error({ err: error }, 'reading listener failed'));
  const latest = new LatestReadings();
  stream.subscribe((readings) => latest.update(readings));
  const scheduler = new PollScheduler(clock, (readings) => stream.publish(readings), logger);

  const buses = new Map<string, ModbusBus>();
  for (const bus of site.buses) buses.set(bus.id, new ModbusBus(busOptions(bus, logger)));

  for (const device of site.devices) {
    const profile = profiles.get(device.profile);
    const bus = buses.get(device.bus);
    // The loader has already refused a site with either missing; this guards against a caller that skipped it.
    if (!profile || !bus) throw new Error(`device ${device.id}: profile or bus missing (run "vigil check" first)`);
    const timeoutMs = device.timeoutMs ?? profile.timeoutMs;
    const retries = device.retries;
    bus.addDevice(device.id, {
      unit: device.unit,
      breaker: device.breaker,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(retries === undefined ? {} : { retries }),
      ...(profile.requestGapMs === undefined ? {} : { requestGapMs: profile.requestGapMs }),
    });
    scheduler.addDevice({
      device: createProfileDevice(profile, device),
      bus,
      priority: device.priority,
      channels: device.channels.map((channel) => {
        const fast = channel.fastInterval ?? device.fastInterval;
        return {
          id: channel.id,
          intervalMs: channel.interval ?? device.interval,
          ...(fast === undefined ? {} : { fastIntervalMs: fast }),
        };
      }),
    });
  }

  for (const bus of buses.values()) bus.start();
  scheduler.start();
  logger.info(
    { site: site.site.id, buses: site.buses.length, devices: site.devices.length },
    'agent started',
  );

  return {
    site,
    stream,
    latest,
    buses,
    scheduler,
    clock,
    async stop() {
      scheduler.stop();
      await Promise.all([...buses.values()].map((bus) => bus.stop()));
      clock.close();
      logger.info('agent stopped');
    },
  };
}
