import {
  DataType,
  LocalizedText,
  StatusCodes,
  Variant,
  type CallMethodResultOptions,
  type ISessionContext,
  type StatusCode,
  type Namespace,
  type UAExclusiveLimitAlarmEx,
  type UAObject,
  type UAVariable,
} from 'node-opcua';
import { channelSpecs, type ChannelSafetyStatus, type LevelSpec } from '../safety/index.js';
import { callerOf, commandAuthor } from './identity.js';
import { nodeIdOf } from './node-ids.js';
import type { OpcuaSources } from './sources.js';
import type { OpcuaUser } from './users.js';

/** OPC UA severity (1–1000) per level: L1 a warning, L2 (and over-range) an alarm that latches. */
export const SEVERITY = { L1: 500, L2: 800, overRange: 900 } as const;

type LimitStateName = 'High' | 'HighHigh' | 'Low' | 'LowLow';

interface Mirrored {
  channelId: string;
  alarm: UAExclusiveLimitAlarmEx;
  L1?: LevelSpec;
  L2: LevelSpec;
  /** What the condition shows now: level|side|acked. */
  shown: string;
}

function side(level: LevelSpec | undefined, status: ChannelSafetyStatus): 'high' | 'low' {
  if (!level || level.direction === 'rising') return 'high';
  if (level.direction === 'falling') return 'low';
  const value = status.compared?.value ?? status.value;
  return value !== null && value <= level.low ? 'low' : 'high';
}

function limitState(level: 'L1' | 'L2', where: 'high' | 'low'): LimitStateName {
  if (where === 'high') return level === 'L1' ? 'High' : 'HighHigh';
  return level === 'L1' ? 'Low' : 'LowLow';
}

function setLimits(options: Record<string, unknown>, level: LevelSpec | undefined, lowKey: string, highKey: string): void {
  if (!level || !level.fromValue) return;
  if (level.direction === 'rising') options[highKey] = level.setpoint;
  else if (level.direction === 'falling') options[lowKey] = level.setpoint;
  else {
    options[lowKey] = level.low;
    options[highKey] = level.high;
  }
}

/**
 * The engine's alarm levels as OPC UA Alarms & Conditions: one ExclusiveLimitAlarm per channel with an alarm
 * (High/Low = L1, HighHigh/LowLow = L2). The alarm engine decides (deadband, delays, latch); these conditions
 * only mirror it, and node-opcua's own comparison of the input against the limits is switched off so that it
 * can never contradict the engine. Acknowledge goes through the command handler like every other command.
 */
export class AlarmMirror {
  private readonly mirrored = new Map<string, Mirrored>();
  private readonly byNodeId = new Map<string, Mirrored>();

  constructor(
    private readonly sources: OpcuaSources,
    private readonly users: () => readonly OpcuaUser[],
  ) {}

  install(namespace: Namespace, channelNodes: ReadonlyMap<string, { device: UAObject; variable: UAVariable }>): void {
    const addressSpace = namespace.addressSpace;
    for (const spec of channelSpecs(this.sources.site)) {
      const node = channelNodes.get(spec.channelId);
      if (!spec.alarm || !node) continue;
      const options: Record<string, unknown> = {
        browseName: `${spec.channelId}.Alarm`,
        nodeId: nodeIdOf('channel', spec.channelId, 'Alarm'),
        componentOf: node.device,
        conditionSource: node.variable,
        conditionName: `${spec.channelId} level alarm`,
        inputNode: node.variable,
      };
      setLimits(options, spec.alarm.L1, 'lowLimit', 'highLimit');
      setLimits(options, spec.alarm.L2, 'lowLowLimit', 'highHighLimit');
      if (!['lowLimit', 'highLimit', 'lowLowLimit', 'highHighLimit'].some((key) => key in options)) {
        // Over-range only (no setpoints): still a HighHigh alarm; its limit is the top of the range.
        options['highHighLimit'] = Number.MAX_VALUE;
      }
      const alarm = namespace.instantiateExclusiveLimitAlarm('ExclusiveLimitAlarmType', options as never);
      // The engine decides; the library must not judge the input by itself (see the class comment).
      Object.assign(alarm, { _onInputDataValueChange: () => undefined, evaluateConditionsAfterEnabled: () => undefined });
      alarm.acknowledge.bindMethod((input: Variant[], context: ISessionContext) => this.onAcknowledge(input, context));
      const entry: Mirrored = { channelId: spec.channelId, alarm, L2: spec.alarm.L2, shown: 'normal|high|true' };
      if (spec.alarm.L1) entry.L1 = spec.alarm.L1;
      this.mirrored.set(spec.channelId, entry);
      this.byNodeId.set(alarm.nodeId.toString(), entry);
    }
    // Clients may call the type's Acknowledge with the condition as the object: route that through here too.
    const acknowledgeable = addressSpace.findEventType('AcknowledgeableConditionType') as unknown as { acknowledge?: { bindMethod(f: unknown): void } } | null;
    acknowledgeable?.acknowledge?.bindMethod((input: Variant[], context: ISessionContext) => this.onAcknowledge(input, context));
    this.refresh();
  }

  /** Brings every condition in line with the engine; raises an event for each one that changed. */
  refresh(): void {
    for (const entry of this.mirrored.values()) {
      const status = this.sources.alarms.channel(entry.channelId);
      if (status) this.sync(entry, status);
    }
  }

  private sync(entry: Mirrored, status: ChannelSafetyStatus): void {
    const active = status.level !== 'normal';
    const where = side(status.level === 'L1' ? entry.L1 : entry.L2, status);
    const acked = !active || status.acknowledged;
    const shown = `${status.level}|${where}|${acked}`;
    if (shown === entry.shown) return;
    entry.shown = shown;
    const { alarm } = entry;
    const branch = alarm.currentBranch();
    alarm.limitState.setState(active ? limitState(status.level as 'L1' | 'L2', where) : null);
    branch.setActiveState(active);
    if (branch.getAckedState() !== acked) branch.setAckedState(acked);
    const retain = active || !acked;
    branch.setRetain(retain);
    const severity = !active ? 0 : status.overRange ? SEVERITY.overRange : SEVERITY[status.level as 'L1' | 'L2'];
    const value = status.compared ? `${status.compared.value} ${status.compared.unit}` : `${status.value ?? '—'} ${status.unit}`;
    const message = !active
      ? `${entry.channelId} back to normal`
      : `${entry.channelId} ${status.level}${status.overRange ? ' (over-range)' : ''} at ${value}${status.latched ? ', latched' : ''}${acked ? ', acknowledged' : ''}`;
    alarm.raiseNewCondition({ message, severity, quality: StatusCodes.Good, retain });
  }

  private async onAcknowledge(input: Variant[], context: ISessionContext): Promise<CallMethodResultOptions> {
    const object = context.object;
    const entry = object ? this.byNodeId.get(object.nodeId.toString()) : undefined;
    if (!entry) return { statusCode: StatusCodes.BadNodeIdInvalid };
    const user = callerOf(context, this.users());
    if (!user || user.role !== 'operator') return refusal(StatusCodes.BadUserAccessDenied, 'acknowledging an alarm needs an operator user');
    const eventId = input[0]?.value as unknown;
    const branch = entry.alarm.currentBranch();
    if (!(eventId instanceof Buffer) || !eventId.equals(branch.getEventId())) {
      const known = entry.alarm.getBranches().some((b) => eventId instanceof Buffer && eventId.equals(b.getEventId()));
      if (!known) return refusal(StatusCodes.BadEventIdUnknown, 'EventId is not the current state of this alarm: refresh and try again');
    }
    if (branch.getAckedState()) return refusal(StatusCodes.BadConditionBranchAlreadyAcked, 'already acknowledged');
    const result = this.sources.commands.execute({ action: 'acknowledge', channel: entry.channelId }, commandAuthor(user));
    if (!result.ok) return refusal(StatusCodes.BadInvalidState, result.error);
    const comment = input[1]?.value instanceof LocalizedText ? input[1].value : new LocalizedText({ text: '' });
    branch.setComment(comment);
    const status = this.sources.alarms.channel(entry.channelId);
    if (status) this.sync(entry, status);
    return { statusCode: StatusCodes.Good, outputArguments: [] };
  }
}

function refusal(statusCode: StatusCode, message: string): CallMethodResultOptions {
  return { statusCode, outputArguments: [new Variant({ dataType: DataType.String, value: message })] };
}
