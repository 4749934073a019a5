import {
  DataType,
  makeEUInformation,
  StatusCodes,
  Variant,
  type IAddressSpace,
  type CallMethodResultOptions,
  type ISessionContext,
  type IVariableHistorian,
  type Namespace,
  type StatusCode,
  type UAObject,
  type UAVariable,
} from 'node-opcua';
import type { Channel, Device } from '../../config/index.js';
import type { Reading } from '../../drivers/reading.js';
import type { HistoryStore } from '../history/index.js';
import type { CommandResult } from '../commands/index.js';
import { serveHistoryPages } from './history-read.js';
import { callerOf, commandAuthor } from './identity.js';
import { nodeIdOf } from './node-ids.js';
import type { OpcuaSources } from './sources.js';
import { SILENT_STATUS, readingStatus } from './status-map.js';
import type { OpcuaUser } from './users.js';

/** UNECE common codes of the units our profiles use; the rest are shown by name with unitId −1. */
const UNECE: Readonly<Record<string, string>> = {
  ppm: '59',
  ppb: '61',
  mm: 'MMT',
  '°C': 'CEL',
  '%': 'P1',
  '%RH': 'P1',
  'mg/m³': 'GQ',
  Hz: 'HTZ',
  V: 'VLT',
};

function engineeringUnits(unit: string): ReturnType<typeof makeEUInformation> {
  const code = UNECE[unit];
  const information = makeEUInformation(code ?? '', unit, unit);
  // No UNECE code for %LEL or %vol: the unit is shown by name, unitId −1 as OPC UA says for "no code".
  if (!code) information.unitId = -1;
  return information;
}

const status = (name: string): StatusCode => (StatusCodes as unknown as Record<string, StatusCode>)[name] ?? StatusCodes.Bad;

const text = (value: string): Variant => new Variant({ dataType: DataType.String, value });
const flag = (value: boolean): Variant => new Variant({ dataType: DataType.Boolean, value });
const number = (value: number): Variant => new Variant({ dataType: DataType.Double, value });
const count = (value: number): Variant => new Variant({ dataType: DataType.UInt32, value: Math.max(0, Math.min(0xffffffff, Math.round(value))) });

export interface ChannelNode {
  device: UAObject;
  variable: UAVariable;
}

export interface GatewayFigures {
  outboxOldestAgeS: number | null;
}

/**
 * Builds the gateway's address space: Site → Gateway, Devices → channels (with diagnostics), Outputs (with
 * Force / Release methods). Channel values are pushed as readings arrive; the rest are read through getters,
 * so they cost nothing unless a client reads or subscribes.
 */
export class GatewayModel {
  readonly channelNodes = new Map<string, ChannelNode>();
  private readonly silent = new Set<string>();
  site!: UAObject;

  constructor(
    private readonly sources: OpcuaSources,
    private readonly history: HistoryStore,
    private readonly users: () => readonly OpcuaUser[],
    private readonly figures: GatewayFigures,
  ) {}

  build(namespace: Namespace): void {
    const addressSpace = namespace.addressSpace;
    const { site } = this.sources.site;
    const server = addressSpace.rootFolder.objects.server;
    this.site = namespace.addObject({
      organizedBy: addressSpace.rootFolder.objects,
      browseName: site.id,
      nodeId: nodeIdOf('site', site.id),
      displayName: site.name,
      description: `${site.kind} site${site.location ? ` at ${site.location}` : ''}`,
      eventNotifier: 1,
      notifierOf: server,
    });
    this.buildGateway(namespace);
    const devices = namespace.addObject({ typeDefinition: 'FolderType', organizedBy: this.site, browseName: 'Devices', nodeId: nodeIdOf('site', site.id, 'Devices') });
    for (const device of this.sources.site.devices) this.buildDevice(namespace, devices, device);
    const outputs = namespace.addObject({ typeDefinition: 'FolderType', organizedBy: this.site, browseName: 'Outputs', nodeId: nodeIdOf('site', site.id, 'Outputs') });
    for (const output of this.sources.site.outputs) this.buildOutput(namespace, outputs, output.id);
    this.installHistory(addressSpace);
  }

  /** Latest readings into the channel variables. */
  update(readings: Iterable<Reading>): void {
    for (const reading of readings) {
      const node = this.channelNodes.get(reading.channelId);
      if (!node) continue;
      this.silent.delete(reading.channelId);
      node.variable.setValueFromSource(
        reading.value === null ? { dataType: DataType.Null } : { dataType: DataType.Double, value: reading.value },
        status(readingStatus(reading.quality, reading.reason)),
        new Date(reading.wallTs),
      );
    }
  }

  /** A channel the engine calls silent keeps its last value, with a communication error as its status. */
  markSilent(): void {
    for (const [channelId, node] of this.channelNodes) {
      const state = this.sources.alarms.channel(channelId);
      if (!state?.fault || state.faultReason !== 'silent' || this.silent.has(channelId)) continue;
      this.silent.add(channelId);
      const last = node.variable.readValue();
      node.variable.setValueFromSource(last.value, status(SILENT_STATUS), last.sourceTimestamp ?? new Date());
    }
  }

  // ------------------------------------------------------------------------------------------------------------

  private buildGateway(namespace: Namespace): void {
    const { clock, outbox, uplink } = this.sources;
    const id = this.sources.site.site.id;
    const gateway = namespace.addObject({ componentOf: this.site, browseName: 'Gateway', nodeId: nodeIdOf('site', id, 'Gateway') });
    const variable = (name: string, dataType: string, get: () => Variant, description: string): void => {
      namespace.addVariable({ componentOf: gateway, browseName: name, nodeId: nodeIdOf('site', id, 'Gateway', name), dataType, description, minimumSamplingInterval: 500, value: { get } });
    };
    variable('UplinkConnected', 'Boolean', () => flag(uplink?.stats().state === 'online'), 'Connected to the platform broker now.');
    variable('UplinkState', 'String', () => text(uplink ? uplink.stats().state : 'not configured'), 'stopped, connecting, waiting, online, or not configured.');
    variable('OutboxDepth', 'UInt32', () => count(outbox?.stats().records ?? 0), 'Records held for the platform and not yet acknowledged.');
    variable('OutboxOldestAgeSeconds', 'Double', () => number(this.figures.outboxOldestAgeS ?? 0), 'Age of the oldest record not yet acknowledged, s (0 when none).');
    variable('ClockSynchronised', 'Boolean', () => flag(clock.synced), 'The wall clock is synchronised (readings before that carry unsynchronised times).');
    variable('HistoryOldest', 'DateTime', () => {
      const oldest = this.history.stats().oldestWallTs;
      return new Variant({ dataType: DataType.DateTime, value: oldest === null ? null : new Date(oldest) });
    }, 'The oldest reading HistoryRead can return.');
  }

  private buildDevice(namespace: Namespace, folder: UAObject, device: Device): void {
    const id = device.id;
    const object = namespace.addObject({
      organizedBy: folder,
      browseName: id,
      nodeId: nodeIdOf('device', id),
      ...(device.name ? { description: device.name } : {}),
      eventNotifier: 1,
      notifierOf: this.site,
    });
    const profile = this.sources.profiles.get(device.profile);
    for (const channel of device.channels) this.buildChannel(namespace, object, channel, profile?.registers.find((r) => r.name === channel.register));
    this.buildDiagnostics(namespace, object, device);
    if (device.channels.some((c) => c.crack)) {
      this.addMethod(namespace, object, nodeIdOf('device', id, 'ResetBaseline'), 'ResetBaseline', 'Sets the baseline (R0/T0) of a crack channel of this device to its current value.', [
        { name: 'Channel', dataType: DataType.String, description: 'The crack channel id.' },
      ], (args) => ({ action: 'set-baseline', channel: args[0] }));
    }
  }

  private buildChannel(
    namespace: Namespace,
    device: UAObject,
    channel: Channel,
    register: { unit?: string | undefined; range?: { min: number; max: number } | undefined } | undefined,
  ): void {
    const unit = this.sources.latest.get(channel.id)?.unit ?? channel.unit ?? register?.unit ?? '';
    const range = channel.range ?? register?.range;
    const variable = namespace.addAnalogDataItem({
      componentOf: device,
      browseName: channel.id,
      nodeId: nodeIdOf('channel', channel.id),
      ...(channel.name ? { description: channel.name } : {}),
      dataType: 'Double',
      engineeringUnits: engineeringUnits(unit),
      engineeringUnitsRange: range ? { low: range.min, high: range.max } : { low: -Number.MAX_VALUE, high: Number.MAX_VALUE },
      ...(range ? { instrumentRange: { low: range.min, high: range.max } } : {}),
      minimumSamplingInterval: 0,
      accessLevel: 'CurrentRead | HistoryRead',
      userAccessLevel: 'CurrentRead | HistoryRead',
    });
    variable.setValueFromSource({ dataType: DataType.Null }, StatusCodes.BadWaitingForInitialData);
    device.addReference({ referenceType: 'HasEventSource', nodeId: variable });
    const alarmState = (name: string, dataType: string, get: () => Variant, description: string): void => {
      namespace.addVariable({ propertyOf: variable, browseName: name, nodeId: nodeIdOf('channel', channel.id, name), dataType, description, minimumSamplingInterval: 500, value: { get } });
    };
    const state = () => this.sources.alarms.channel(channel.id);
    alarmState('Fault', 'Boolean', () => flag(state()?.fault ?? false), 'The channel is in fault (a state, never a value).');
    alarmState('FaultReason', 'String', () => text(state()?.faultReason ?? ''), 'Why, while in fault.');
    alarmState('AlarmLevel', 'String', () => text(state()?.level ?? 'normal'), 'normal, L1 or L2.');
    if (channel.crack) alarmState('CrackGrade', 'String', () => text(state()?.grade ?? 'none'), 'blue, yellow, orange, red or none.');
    const latest = this.sources.latest.get(channel.id);
    if (latest) this.update([latest]);
    this.channelNodes.set(channel.id, { device, variable });
  }

  private buildDiagnostics(namespace: Namespace, device: UAObject, config: Device): void {
    const bus = this.sources.buses.get(config.bus);
    if (!bus) return;
    const diagnostics = namespace.addObject({ componentOf: device, browseName: 'Diagnostics', nodeId: nodeIdOf('device', config.id, 'Diagnostics') });
    const counters = () => bus.deviceCounters(config.id);
    const counter = (name: string, get: () => Variant, dataType = 'UInt32'): void => {
      namespace.addVariable({ componentOf: diagnostics, browseName: name, nodeId: nodeIdOf('device', config.id, 'Diagnostics', name), dataType, minimumSamplingInterval: 500, value: { get } });
    };
    counter('Requests', () => count(counters().requests));
    counter('Ok', () => count(counters().ok));
    counter('Timeouts', () => count(counters().timeouts));
    counter('CrcErrors', () => count(counters().crcErrors));
    counter('FramingErrors', () => count(counters().framingErrors));
    counter('Exceptions', () => count(counters().exceptions));
    counter('Retries', () => count(counters().retries));
    counter('BreakerState', () => text(counters().breaker.state), 'String');
    counter('LatencyAvgMs', () => number(counters().latency.avgMs), 'Double');
    counter('BusConnected', () => flag(bus.counters().connected), 'Boolean');
  }

  private buildOutput(namespace: Namespace, folder: UAObject, outputId: string): void {
    const object = namespace.addObject({ organizedBy: folder, browseName: outputId, nodeId: nodeIdOf('output', outputId) });
    const status = () => this.sources.outputs.status(outputId);
    const variable = (name: string, dataType: string, get: () => Variant, description: string): void => {
      namespace.addVariable({ componentOf: object, browseName: name, nodeId: nodeIdOf('output', outputId, name), dataType, description, minimumSamplingInterval: 200, value: { get } });
    };
    variable('State', 'Boolean', () => flag(status()?.commanded === true), 'Commanded on (false also before the first command).');
    variable('Cause', 'String', () => text(status()?.cause ?? ''), 'Why it is in that state, in words.');
    variable('Override', 'String', () => text(status()?.override?.state ?? 'none'), 'on or off while forced; none otherwise.');
    variable('OverrideBy', 'String', () => text(status()?.override?.by ?? ''), 'Who forced it.');
    variable('OverrideRemainingSeconds', 'Double', () => number((status()?.override?.remainingMs ?? 0) / 1000), 'Time left of the force, s (0 when not forced).');
    variable('Delivery', 'String', () => text(status()?.delivery ?? 'none'), 'ok, pending, failed or none: whether the relay follows its command.');
    this.addMethod(namespace, object, nodeIdOf('output', outputId, 'Force'), 'Force', 'Forces the output on or off for a while; it goes back under its rule when the time is up.', [
      { name: 'State', dataType: DataType.String, description: '"on" or "off".' },
      { name: 'For', dataType: DataType.String, description: 'How long, e.g. "10m", "1h" (a force always expires).' },
    ], (args) => ({ action: 'force', output: outputId, state: args[0], for: args[1] }));
    this.addMethod(namespace, object, nodeIdOf('output', outputId, 'Release'), 'Release', 'Ends a force: the output goes back under its rule.', [], () => ({ action: 'release', output: outputId }));
  }

  /**
   * A method that runs one operator command through the command handler, as `opcua:<user>`, for operators
   * only. A refusal is a Bad status with the handler's words as the Message output.
   */
  private addMethod(
    namespace: Namespace,
    object: UAObject,
    nodeId: string,
    browseName: string,
    description: string,
    inputArguments: Array<{ name: string; dataType: DataType; description: string }>,
    command: (args: unknown[]) => unknown,
  ): void {
    const method = namespace.addMethod(object, {
      browseName,
      nodeId,
      description,
      inputArguments: inputArguments.map((a) => ({ name: a.name, dataType: a.dataType, description: { text: a.description } })),
      outputArguments: [{ name: 'Message', dataType: DataType.String, description: { text: 'What was done, or why not.' } }],
    });
    method.bindMethod(async (input: Variant[], context: ISessionContext): Promise<CallMethodResultOptions> => {
      const user = callerOf(context, this.users());
      if (!user) return answer(StatusCodes.BadUserAccessDenied, `${browseName} needs a signed-in operator (anonymous users may only read)`);
      if (user.role !== 'operator') return answer(StatusCodes.BadUserAccessDenied, `${browseName}: user "${user.name}" is a ${user.role}; moving outputs and resetting baselines needs an operator`);
      const result: CommandResult = this.sources.commands.execute(command(input.map((v) => v.value as unknown)), commandAuthor(user));
      if (!result.ok) return answer(StatusCodes.BadInvalidArgument, result.error);
      return answer(StatusCodes.Good, result.message);
    });
  }

  private installHistory(addressSpace: IAddressSpace): void {
    for (const [channelId, { variable }] of this.channelNodes) {
      const historian: IVariableHistorian = {
        // The store is fed from the reading stream; what the variable sees needs no second copy.
        push: async () => undefined,
        // Raw reads are served page by page (serveHistoryPages); nothing else asks the historian.
        extractDataValues: (_details, _maxNumber, _isReversed, _reverseDataValue, callback) => callback(null, []),
      };
      addressSpace.installHistoricalDataNode(variable, { historian });
      serveHistoryPages(variable, channelId, this.history);
    }
  }
}

function answer(statusCode: StatusCode, message: string): CallMethodResultOptions {
  return { statusCode, outputArguments: [new Variant({ dataType: DataType.String, value: message })] };
}
