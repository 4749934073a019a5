import { isSerialBus, type Bus, type Profile, type Site } from '../../config/schema/index.js';
import { createProfileDevice } from '../../drivers/modbus/index.js';
import { createGpioBackend, GpioInputs, type GpioBackend, type SimulatedGpio } from '../../drivers/gpio/index.js';
import { ModbusBus, type BusOptions, type BusTraceEvent } from '../bus/index.js';
import { PollScheduler } from '../acquisition/index.js';
import { apiSocketPath, prepareApiSocket, startApiServer, type ApiServer } from '../api/index.js';
import { createSystemClock, type Clock } from '../clock/index.js';
import { CommandHandler } from '../commands/index.js';
import type { Logger } from '../log/index.js';
import { LatestReadings, ReadingStream } from '../readings/index.js';
import { AlarmEngine, OutputController, SafetyEventLog, SafetyLoop, parseAlarmSnapshot, type OutputSnapshot } from '../safety/index.js';
import { StateStore, loadState, stateFile } from '../state/index.js';
import { createOutputDrivers } from './outputs.js';
import { startUplink, type UplinkParts } from './uplink.js';
import type { LatestValue, PushConfigHandler } from '../uplink/index.js';
import type { Reading } from '../../drivers/reading.js';
import type { Settings } from '../../config/index.js';
import { startOpcuaAfterFirstPoll, type OpcuaHandle } from '../opcua/index.js';

export interface AgentOptions {
  site: Site;
  profiles: ReadonlyMap<string, Profile>;
  logger: Logger;
  clock?: Clock;
  /** Where long-running state (latches, baselines, outputs, counters) is kept; none = in memory only. */
  dataDir?: string;
  /** In-process GPIO chips, for the demo and tests (used when the site's GPIO backend is "simulated"). */
  simulatedGpio?: SimulatedGpio;
  /** Machine settings; with a dataDir they switch on the durable outbox and, with a broker URL, the uplink. */
  settings?: Settings;
  /** The agent's version, for the birth message. */
  version?: string;
  /** Handles a site config pushed by the platform (the supervisor's); absent: refused. */
  pushConfig?: PushConfigHandler;
  /** Fault injection (bench:safety): every state commit takes this much longer. */
  stateCommitDelayMs?: number;
  /** Wire-level timing of every bus (benchmarks, diagnostics). */
  busTrace?: (busId: string, event: BusTraceEvent) => void;
}

/** A running gateway: buses opened, devices polled, readings flowing through the safety loop. */
export interface RunningAgent {
  readonly site: Site;
  readonly stream: ReadingStream;
  readonly latest: LatestReadings;
  readonly buses: ReadonlyMap<string, ModbusBus>;
  readonly scheduler: PollScheduler;
  readonly clock: Clock;
  readonly alarms: AlarmEngine;
  readonly outputs: OutputController;
  readonly safety: SafetyLoop;
  readonly events: SafetyEventLog;
  readonly commands: CommandHandler;
  /** Outbox, recorder and uplink, when settings were given. */
  readonly uplink: UplinkParts | undefined;
  /** The OPC UA server, when settings enable it (it starts after the first poll). */
  readonly opcua: OpcuaHandle | undefined;
  /** The local status API (docs/local-api.md), when settings and a data folder were given. */
  readonly api: ApiServer | undefined;
  stop(): Promise<void>;
}

/** A reading as the platform profiles see the latest value of a channel. */
function latestValue(reading: Reading): LatestValue {
  return {
    channelId: reading.channelId,
    deviceId: reading.deviceId,
    value: reading.value,
    unit: reading.unit,
    quality: reading.quality,
    ...(reading.reason === undefined ? {} : { reason: reading.reason }),
    ts: reading.wallTs,
    clock: reading.clockSynced ? 'synced' : 'unsynced',
  };
}

function busOptions(bus: Bus, logger: Logger, trace: AgentOptions['busTrace']): BusOptions {
  const common: BusOptions = {
    id: bus.id,
    timeoutMs: bus.timeoutMs,
    retries: bus.retries,
    logger: logger.child({ bus: bus.id }),
    transport: isSerialBus(bus)
      ? (({ path, ...line }) => ({ kind: 'serial' as const, path, line }))(bus.serial)
      : { kind: 'tcp', host: bus.tcp.host, port: bus.tcp.port, ...(bus.line ? { line: bus.line } : {}) },
  };
  if (bus.guardMs !== undefined) common.guardMs = bus.guardMs;
  if (bus.echo) common.echo = true;
  if (trace) common.trace = (event) => trace(bus.id, event);
  return common;
}

/**
 * Builds an engine from its stored state; if that state makes it throw, builds it fresh instead. A damaged
 * state file must cost the memory of the past, never the protection of the present.
 */
function withRestore<T, S>(build: (restore: S | undefined) => T, restore: S | undefined, logger: Logger, what: string): T {
  if (restore === undefined) return build(undefined);
  try {
    return build(restore);
  } catch (error) {
    logger.error({ err: error }, `stored ${what} state unusable: starting without it`);
    return build(undefined);
  }
}

/** Entries are checked one by one by the controller; this only checks the envelope. */
function isOutputSnapshot(value: unknown): value is OutputSnapshot {
  return typeof value === 'object' && value !== null && (value as { version?: unknown }).version === 1 && typeof (value as { outputs?: unknown }).outputs === 'object';
}

function isCounterTotals(value: unknown): value is Record<string, number> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
}

/** An output on a Modbus coil whose coil the site also polls as a channel: that channel shows what the relay really is. */
function readbackChannels(site: Site): Map<string, string> {
  const map = new Map<string, string>();
  for (const output of site.outputs) {
    if (!output.modbus) continue;
    const device = site.devices.find((d) => d.id === output.modbus?.device);
    const channel = device?.channels.find((c) => c.register === output.modbus?.register);
    if (channel) map.set(output.id, channel.id);
  }
  return map;
}

/**
 * How long the agent was stopped, when both the last save and now had a synchronised clock; otherwise unknown
 * (timed state is then restored as it was, with the controller's own caps).
 */
function downtimeMs(meta: unknown, clock: Clock): number | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { wallTs, clockSynced } = meta as { wallTs?: unknown; clockSynced?: unknown };
  if (clockSynced !== true || !clock.synced || typeof wallTs !== 'number') return undefined;
  const gap = Date.now() - wallTs;
  return gap >= 0 ? gap : undefined;
}

/** With no readings at all for this long, the field loop is stalled: three of the fastest poll intervals, at least 15 s. */
function stallAfterMs(site: Site): number {
  const intervals = site.devices.flatMap((d) => d.channels.map((c) => c.interval ?? d.interval));
  return Math.max(15_000, 3 * Math.min(...intervals, 3_600_000));
}

/**
 * Wires a validated site into buses, drivers, the poll scheduler and the safety loop, and starts polling.
 * The first poll is issued before anything slow (GPIO tools, state writes) can hold it up.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { site, profiles, logger } = options;
  const clock = options.clock ?? createSystemClock();
  // Before anything opens a bus: a live API socket means another agent drives these buses and relays.
  const apiSettings = options.settings && options.dataDir ? options.settings : undefined;
  const apiSocket = apiSettings ? await prepareApiSocket(apiSocketPath(apiSettings, options.dataDir), logger) : undefined;
  const events = new SafetyEventLog(logger.child({ part: 'safety' }));
  const stream = new ReadingStream((error) => logger.error({ err: error }, 'reading listener failed'));
  const latest = new LatestReadings();
  const scheduler = new PollScheduler(clock, (readings) => stream.publish(readings), logger);

  const file = options.dataDir ? stateFile(options.dataDir) : undefined;
  const restored = file ? loadState(file) : { sections: {} };
  if (restored.damaged) {
    logger.error({ movedTo: restored.damaged.movedTo, error: restored.damaged.error }, 'state file was damaged: moved aside, starting from defaults');
  }
  const store = file ? new StateStore(file, logger.child({ part: 'state' }), 1000, options.stateCommitDelayMs ?? 0) : undefined;

  const buses = new Map<string, ModbusBus>();
  for (const bus of site.buses) buses.set(bus.id, new ModbusBus(busOptions(bus, logger, options.busTrace)));
  for (const device of site.devices) {
    const profile = profiles.get(device.profile);
    const bus = buses.get(device.bus);
    // The loader has already refused a site with either missing; this guards against a caller that skipped it.
    if (!profile || !bus) throw new Error(`device ${device.id}: profile or bus missing (run "vigil check" first)`);
    const timeoutMs = device.timeoutMs ?? profile.timeoutMs;
    bus.addDevice(device.id, {
      unit: device.unit,
      breaker: device.breaker,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(device.retries === undefined ? {} : { retries: device.retries }),
      ...(profile.requestGapMs === undefined ? {} : { requestGapMs: profile.requestGapMs }),
    });
    scheduler.addDevice({
      device: createProfileDevice(profile, device),
      bus,
      priority: device.priority,
      channels: device.channels.map((channel) => {
        const fast = channel.fastInterval ?? device.fastInterval;
        return { id: channel.id, intervalMs: channel.interval ?? device.interval, ...(fast === undefined ? {} : { fastIntervalMs: fast }) };
      }),
    });
  }

  const alarmState = restored.sections.alarms === undefined ? undefined : parseAlarmSnapshot(restored.sections.alarms);
  if (alarmState && !alarmState.ok) logger.error({ error: alarmState.error }, 'stored alarm state unreadable: starting without it');
  if (alarmState?.ok && alarmState.problems.length > 0) {
    logger.warn({ problems: alarmState.problems }, 'some stored alarm state was damaged and skipped');
  }
  const alarms = withRestore(
    (restore) => new AlarmEngine({ site, clock, emit: events.sink, ...(restore ? { restore } : {}) }),
    alarmState?.ok ? alarmState.snapshot : undefined,
    logger,
    'alarm',
  );

  const needsGpio = (site.gpio?.inputs.length ?? 0) > 0 || site.outputs.some((o) => o.gpio);
  // GPIO discovery runs external tools: it proceeds beside the first poll, never before it.
  const gpioReady: Promise<GpioBackend | undefined> = needsGpio
    ? createGpioBackend(site.gpio?.backend ?? 'auto', options.simulatedGpio ? { simulated: options.simulatedGpio } : {}).catch((error: unknown) => {
        // Without GPIO the Modbus side still protects the site; the GPIO outputs report failed.
        logger.error({ err: error }, 'GPIO unavailable');
        return undefined;
      })
    : Promise.resolve(undefined);
  let gpioInputs: GpioInputs | undefined;
  let stopping = false;

  const drivers = createOutputDrivers(site, profiles, buses, gpioReady, logger);
  const outputSnapshot = isOutputSnapshot(restored.sections.outputs) ? restored.sections.outputs : undefined;
  const outputs = withRestore(
    (restore) =>
      new OutputController({
        outputs: site.outputs,
        safety: alarms,
        inputs: { latestValue: (channelId) => latest.get(channelId) },
        drivers,
        clock,
        emit: events.sink,
        channelIds: [...site.devices.flatMap((d) => d.channels.map((c) => c.id)), ...(site.gpio?.inputs.map((i) => i.id) ?? [])],
        readback: readbackChannels(site),
        ...(restore ? { restore, restoreDowntimeMs: downtimeMs(restored.sections.meta, clock) } : {}),
      }),
    outputSnapshot,
    logger,
    'output',
  );

  const safety = new SafetyLoop({
    clock,
    logger,
    alarms,
    outputs,
    accelerate: (deviceId, on) => scheduler.setAccelerated(deviceId, on),
    stateChanged: () => store?.markDirty(),
    stallAfterMs: stallAfterMs(site),
  });

  if (store) {
    store.section('meta', () => ({ wallTs: Date.now(), clockSynced: clock.synced }));
    store.section('alarms', () => alarms.snapshot());
    store.section('outputs', () => outputs.snapshot());
    // Counter totals survive even if GPIO is late or absent this time: what was stored is kept as it was.
    store.section('gpio', () => gpioInputs?.snapshot() ?? restored.sections.gpio ?? {});
    events.subscribe(() => store.markDirty());
  }
  const commands = new CommandHandler(alarms, outputs);
  const uplink =
    options.settings && options.dataDir
      ? await startUplink({
          site,
          settings: { ...options.settings, dataDir: options.dataDir },
          version: options.version ?? '0.0.0',
          clock,
          logger,
          stream,
          events,
          commands,
          isAccelerated: (deviceId) => scheduler.stats(deviceId)?.accelerated ?? false,
          restoreCommands: restored.sections.commands,
          stateChanged: () => store?.markDirty(),
          ...(options.pushConfig ? { pushConfig: options.pushConfig } : {}),
          latest: () => latest.all().map(latestValue),
          requestSample: () => scheduler.pollNow(),
        })
      : undefined;
  if (store && uplink) store.section('commands', () => uplink.snapshot() ?? restored.sections.commands ?? null);

  // Latest first: input conditions and feedback read it when the same readings reach the safety loop.
  stream.subscribe((readings) => latest.update(readings));
  stream.subscribe((readings) => safety.onReadings(readings));
  // Subscribed after the safety loop; node-opcua itself is loaded only once the first poll has been published.
  const opcua =
    options.settings && options.dataDir
      ? startOpcuaAfterFirstPoll({
          settings: options.settings.opcua,
          dataDir: options.dataDir,
          logger,
          ...(options.version ? { version: options.version } : {}),
          sources: { site, profiles, stream, latest, alarms, outputs, commands, buses, events, clock, outbox: uplink?.outbox, uplink: uplink?.uplink },
        })
      : undefined;

  // Buses first: the outputs' start-up states are written through them.
  for (const bus of buses.values()) bus.start();
  safety.start();
  scheduler.start();
  const gpioStarted = gpioReady.then(async (backend) => {
    if (!backend || !site.gpio || stopping) return;
    const inputs = new GpioInputs(site.gpio.inputs, backend, clock, (readings) => stream.publish(readings));
    if (isCounterTotals(restored.sections.gpio)) {
      try {
        inputs.restore(restored.sections.gpio);
      } catch (error) {
        logger.error({ err: error }, 'stored GPIO counter totals unusable: counting from zero');
      }
    }
    gpioInputs = inputs;
    await inputs.start();
  });
  const api =
    apiSettings && (apiSocket !== undefined || apiSettings.api.tcpPort !== null)
      ? await startApiServer({
          agent: { site, latest, buses, scheduler, clock, alarms, outputs, safety, events, uplink },
          commands,
          logger: logger.child({ part: 'api' }),
          ...(apiSocket === undefined ? {} : { socketPath: apiSocket }),
          ...(apiSettings.api.tcpPort === null ? {} : { tcpPort: apiSettings.api.tcpPort }),
          ...(options.version ? { version: options.version } : {}),
        }).catch((error: unknown) => {
          logger.error({ err: error }, 'local API could not start: running without it');
          return undefined;
        })
      : undefined;
  logger.info({ site: site.site.id, buses: site.buses.length, devices: site.devices.length, outputs: site.outputs.length }, 'agent started');

  return {
    site,
    stream,
    latest,
    buses,
    scheduler,
    clock,
    alarms,
    outputs,
    safety,
    events,
    commands,
    uplink,
    opcua,
    api,
    async stop() {
      // Outputs go to their shutdown states while the buses can still carry the writes.
      stopping = true;
      await opcua?.stop();
      await api?.close();
      await safety.stop();
      scheduler.stop();
      await gpioStarted.catch(() => undefined);
      await gpioInputs?.stop();
      await Promise.all([...buses.values()].map((bus) => bus.stop()));
      await (await gpioReady)?.close();
      // After the outputs' last events, so they are recorded and (with a broker) sent.
      await uplink?.stop();
      await store?.flush();
      clock.close();
      logger.info('agent stopped');
    },
  };
}
