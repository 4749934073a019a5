import type { GeohazardOptions } from '../../../../config/schema/index.js';
import type { TelemetryDelivery } from '../../payloads.js';
import type {
  BirthChannel,
  BirthInfo,
  CommandOutcome,
  ConnectIdentity,
  DecodedCommand,
  OutgoingMessage,
  PlatformCommand,
  PlatformProfile,
  ProfileContext,
} from '../../profile.js';
import { parseCommand, reasonExtra, replyText, jsonExtra, secondsParam, type ParsedCommand } from './commands.js';
import { DP_TOPIC, DR_TOPIC, dpFrame, isoUtc } from './frame.js';
import { ChannelMap } from './mapping.js';
import { dpJsonTexts, type DataPoint } from './points.js';
import { buildStatus, sensorState, type ChannelCondition, type SensorState, type StatusField } from './status.js';

/** Operator actions the geohazard commands map to (setInitial → set-baseline). */
export const GEOHAZARD_ACTIONS: readonly string[] = ['set-baseline'];

/** A platform command has no expiry of its own: it is good for this long after it arrives. */
export const GEOHAZARD_COMMAND_LIFETIME_MS = 60_000;

/** Interval bounds in seconds, as field devices of this platform accept them. */
const SAMPLE_LIMITS = [1, 86_400] as const;
const UPLOAD_LIMITS = [1, 259_200] as const;
const PLUS_LIMITS = [1, 86_400] as const;

/** setInitial for several gauges waits for every result before it answers once. */
interface PendingGroup {
  name: string;
  msgid: string;
  waiting: number;
  failures: string[];
}
const MAX_PENDING_GROUPS = 100;

type WorkMode = 0 | 1 | 2;

export interface GeohazardProfile extends PlatformProfile {
  /** The work mode the platform set (0 normal, 1 energy saving, 2 emergency); for the status and tests. */
  workMode(): WorkMode;
  /** The intervals in force, in ms (upload: null until the platform sets one). */
  intervals(): { plusMs: number; uploadMs: number | null; sampleS: number | null };
}

/**
 * The national geohazard platform's universal-device protocol: readings of mapped channels as $dp frames
 * ({"<devId>":{"<code>":{"<ISO time>":value}}}), the S1_ZT_1 status at every connect, every statusInterval and
 * on request, and the $creq commands answered on $dr. See docs/platforms/geohazard.md.
 */
export function createGeohazardProfile(ctx: ProfileContext, options: GeohazardOptions, channels: readonly BirthChannel[]): GeohazardProfile {
  const host = ctx.host;
  const deviceId = options.deviceId;
  const map = new ChannelMap(options.channels);
  const known = new Set(channels.map((c) => c.id));
  const commandPrefix = `$creq/${deviceId}/`;
  const statusChannels: Partial<Record<StatusField, string>> = options.statusChannels;

  let swVersion: string | undefined;
  let mode: WorkMode = 0;
  let plusMs = options.plusInterval;
  let uploadMs: number | null = null;
  let sampleS: number | null = null;
  let statusTimer: NodeJS.Timeout | undefined;
  let emergencyTimer: NodeJS.Timeout | undefined;
  let uploadTimer: NodeJS.Timeout | undefined;
  let online = false;
  /** What the platform was last told about each sensor, so a change is reported with the data that shows it. */
  const reported = new Map<string, SensorState>();
  const pending = new Map<string, PendingGroup>();
  let lastClockWarning = -Infinity;

  for (const target of map.targets()) {
    if (!known.has(target.channelId)) host.log('warn', 'geohazard: a mapped channel is not in the site; it is never sent', { channel: target.channelId });
  }

  const dp = (json: string): OutgoingMessage => ({ topic: DP_TOPIC, payload: dpFrame(options.frameType, json), retain: false, qos: 1 });
  const reply = (text: string): OutgoingMessage => ({ topic: DR_TOPIC, payload: Buffer.from(text, 'utf8'), retain: false, qos: 1 });

  const status = (overrides?: ReadonlyMap<string, ChannelCondition>): Record<string, unknown> => {
    const built = buildStatus({
      map,
      latest: host.latest(),
      ...(overrides ? { overrides } : {}),
      statusChannels,
      swVersion,
      clockSynced: host.now().clock !== 'unsynced',
    });
    for (const [code, state] of built.states) reported.set(code, state);
    return built.body;
  };

  const frames = (points: readonly DataPoint[], statusBody?: Record<string, unknown>): OutgoingMessage[] => {
    try {
      return dpJsonTexts(deviceId, points, statusBody).map(dp);
    } catch (error) {
      host.log('error', 'geohazard: could not build a $dp frame', { error: error instanceof Error ? error.message : String(error) });
      return [];
    }
  };

  const point = (channelId: string, ts: number, value: number | null, bad: boolean): DataPoint | undefined => {
    const target = map.target(channelId);
    if (!target || bad || value === null) return undefined;
    const time = isoUtc(ts);
    if (time === undefined) {
      host.log('error', 'geohazard: a reading with an unwritable time was not sent', { channel: channelId, ts });
      return undefined;
    }
    return { code: target.code, time, value, ...(target.component === undefined ? {} : { component: target.component }) };
  };

  /** The latest value of every mapped channel, and the status, now (sample, emergency and upload reports). */
  const reportNow = (): void => {
    const points: DataPoint[] = [];
    for (const l of host.latest()) {
      const p = point(l.channelId, l.ts, l.value, l.quality === 'bad');
      if (p) points.push(p);
    }
    host.publish(frames(points, status()));
  };

  const clearTimers = (): void => {
    clearInterval(statusTimer);
    clearInterval(emergencyTimer);
    clearInterval(uploadTimer);
    statusTimer = emergencyTimer = uploadTimer = undefined;
  };

  const every = (ms: number, run: () => void): NodeJS.Timeout => {
    const timer = setInterval(() => {
      try {
        run();
      } catch (error) {
        host.log('error', 'geohazard: a timed report failed', { error: error instanceof Error ? error.message : String(error) });
      }
    }, ms);
    timer.unref();
    return timer;
  };

  /** Timers run while connected: what they publish would be dropped offline anyway. */
  const startTimers = (): void => {
    clearTimers();
    if (!online) return;
    statusTimer = every(options.statusInterval, () => host.publish(frames([], status())));
    if (mode === 2) emergencyTimer = every(plusMs, reportNow);
    else if (uploadMs !== null) uploadTimer = every(uploadMs, reportNow);
  };

  const warnUnsynced = (count: number): void => {
    const now = performance.now();
    if (now - lastClockWarning < 60_000) return;
    lastClockWarning = now;
    host.log('warn', 'geohazard: readings stamped before the clock was synchronised are sent with that time', { readings: count });
  };

  // ------------------------------------------------------------------ commands

  const failure = (topic: string, name: string, msgid: string | undefined, error: string): DecodedCommand => ({
    ok: false,
    id: msgid ?? null,
    error,
    topic,
    context: { cmd: name, ...(msgid === undefined ? {} : { msgid }) },
  });

  const answer = (text: string, before: readonly OutgoingMessage[] = []): DecodedCommand => {
    host.publish([...before, reply(text)]);
    return { ok: 'handled' };
  };

  const crackCodes = (): string[] => map.codes().filter((code) => code.startsWith('L1_LF_'));

  const baselineCommand = (topic: string, cmd: ParsedCommand, id: string, channel: string, extra: Record<string, string>): PlatformCommand => ({
    id,
    expiresAt: host.now().ts + GEOHAZARD_COMMAND_LIFETIME_MS,
    command: { action: 'set-baseline', channel },
    action: 'set-baseline',
    topic,
    context: { cmd: cmd.name, msgid: cmd.msgid, ...extra },
  });

  const setInitial = (topic: string, cmd: ParsedCommand): DecodedCommand => {
    const fail = (error: string): DecodedCommand => failure(topic, cmd.name, cmd.msgid, error);
    const sensor = cmd.params.get('sensor_id');
    let codes: string[];
    if (sensor !== undefined) {
      if (map.channelsOf(sensor).length === 0) return fail(`sensor_id "${sensor.slice(0, 40)}" is not mapped on this gateway`);
      if (!sensor.startsWith('L1_LF_')) return fail(`setInitial applies to crack gauges (L1_LF_n), not ${sensor}`);
      codes = [sensor];
    } else {
      codes = crackCodes();
      if (codes.length === 0) return fail('no crack gauge (L1_LF_n) is mapped on this gateway');
    }
    const targets = codes.flatMap((code) => map.channelsOf(code));
    const only = targets.length === 1 ? targets[0] : undefined;
    if (only) return { ok: true, command: baselineCommand(topic, cmd, cmd.msgid, only.channelId, {}) };
    // Several gauges: one gate command each (ids msgid#code), one answer when all are judged.
    while (pending.size >= MAX_PENDING_GROUPS) {
      const oldest = pending.keys().next().value;
      if (oldest === undefined) break;
      pending.delete(oldest);
    }
    const group = `${cmd.msgid}#${pending.size}#${host.now().ts}`;
    pending.set(group, { name: cmd.name, msgid: cmd.msgid, waiting: targets.length, failures: [] });
    for (const target of targets) host.submit(baselineCommand(topic, cmd, `${cmd.msgid}#${target.code}`, target.channelId, { group, code: target.code }));
    return { ok: 'handled' };
  };

  const setWorkMode = (topic: string, cmd: ParsedCommand): DecodedCommand => {
    const text = cmd.params.get('mode');
    if (text !== '0' && text !== '1' && text !== '2') return failure(topic, cmd.name, cmd.msgid, 'mode must be 0 (normal), 1 (energy saving) or 2 (emergency)');
    mode = Number(text) as WorkMode;
    host.log('info', 'geohazard: work mode set by the platform', { mode, plusIntervalMs: plusMs });
    const ok = answer(replyText(cmd.name, true, cmd.msgid));
    startTimers();
    if (mode === 2) reportNow();
    return ok;
  };

  const setSensorTime = (topic: string, cmd: ParsedCommand): DecodedCommand => {
    const fail = (error: string): DecodedCommand => failure(topic, cmd.name, cmd.msgid, error);
    const sensor = cmd.params.get('sensor_id');
    if (sensor !== undefined && map.channelsOf(sensor).length === 0) return fail(`sensor_id "${sensor.slice(0, 40)}" is not mapped on this gateway`);
    const sample = secondsParam(cmd.params, 'sample_intv', ...SAMPLE_LIMITS);
    const upload = secondsParam(cmd.params, 'upload_intv', ...UPLOAD_LIMITS);
    const plus = secondsParam(cmd.params, 'plus_intv', ...PLUS_LIMITS);
    for (const value of [sample, upload, plus]) if (typeof value === 'string') return fail(value);
    if (sample === undefined && upload === undefined && plus === undefined) return fail('give sample_intv, upload_intv or plus_intv (seconds)');
    if (typeof plus === 'number') plusMs = plus * 1000;
    if (typeof upload === 'number') uploadMs = upload * 1000;
    if (typeof sample === 'number') sampleS = sample;
    host.log('info', 'geohazard: report intervals set by the platform', { plusIntervalMs: plusMs, uploadIntervalMs: uploadMs, sampleIntervalS: sampleS });
    const ok = answer(replyText(cmd.name, true, cmd.msgid, sample === undefined ? [] : [['ignored', 'sample_intv']]));
    startTimers();
    return ok;
  };

  const refuse = (topic: string, cmd: ParsedCommand, reason: string): DecodedCommand => {
    host.log('warn', `geohazard: platform command ${cmd.name} refused`, { msgid: cmd.msgid, reason });
    return failure(topic, cmd.name, cmd.msgid, reason);
  };

  const run = (topic: string, cmd: ParsedCommand): DecodedCommand => {
    switch (cmd.name) {
      case 'reqtime': {
        const now = host.now();
        const time = isoUtc(now.ts) ?? '';
        return answer(replyText(cmd.name, true, cmd.msgid, [['time', time], ['synced', now.clock === 'unsynced' ? '0' : '1']]));
      }
      case 'getstatus': {
        const body = status();
        return answer(replyText(cmd.name, true, cmd.msgid, [jsonExtra('state', body)]), frames([], body));
      }
      case 'sample': {
        if (!host.requestSample()) return failure(topic, cmd.name, cmd.msgid, 'the field side cannot poll now');
        const ok = answer(replyText(cmd.name, true, cmd.msgid));
        reportNow();
        return ok;
      }
      case 'setworkmode':
        return setWorkMode(topic, cmd);
      case 'setsensortime':
        return setSensorTime(topic, cmd);
      case 'setInitial':
        return setInitial(topic, cmd);
      case 'setsensorattr':
        return refuse(topic, cmd, 'thresholds and limits are set in the site config (safety rules), not from the platform');
      case 'reboot':
        return refuse(topic, cmd, 'reboot is not run from an unsigned platform command; restart the gateway locally');
      case 'meteorologicalearlywarning':
        return refuse(topic, cmd, 'this gateway has no warning outputs for platform early warnings');
      default:
        return failure(topic, cmd.name, cmd.msgid, `unknown command "${cmd.name}"`);
    }
  };

  // ------------------------------------------------------------------ the profile

  return {
    name: 'geohazard',
    commandSubscriptions: [`${commandPrefix}+`],

    connectIdentity(configured: ConnectIdentity): ConnectIdentity {
      // MQTT 3.1.1 allows no password without a user name: the device id stands in unless one is configured.
      const credentials = configured.credentials;
      if (credentials.password === undefined || credentials.username !== undefined) return configured;
      return { ...configured, credentials: { ...credentials, username: deviceId } };
    },

    sessionStarted() {
      online = true;
    },

    sessionEnded() {
      online = false;
      clearTimers();
    },

    encodeBirth(birth: BirthInfo) {
      swVersion = birth.version;
      startTimers();
      return frames([], status());
    },

    encodeTelemetry(batch: readonly TelemetryDelivery[]) {
      const points: DataPoint[] = [];
      const conditions = new Map<string, ChannelCondition>();
      let unsynced = 0;
      for (const d of batch) {
        const r = d.reading;
        if (!map.target(r.channelId)) continue;
        conditions.set(r.channelId, { quality: r.quality, ...(r.reason === undefined ? {} : { reason: r.reason }) });
        const p = point(r.channelId, d.ts, r.value, r.quality === 'bad');
        if (!p) continue;
        points.push(p);
        if (d.clock === 'unsynced') unsynced++;
      }
      if (unsynced > 0) warnUnsynced(unsynced);
      // The status says how sensors are now: it rides along only with live data, when a sensor changed.
      const live = batch.length > 0 && !batch[0]?.historical;
      const changed = live && [...conditions].some(([channelId, c]) => {
        const code = map.target(channelId)?.code;
        return code !== undefined && reported.get(code) !== sensorState(c.quality, c.reason);
      });
      return frames(points, changed ? status(conditions) : undefined);
    },

    encodeEvent() {
      // The platform has no event data point: it judges alarms from the data, and sensor faults reach it as
      // S1_ZT_1 sensor_state. Events stay in the outbox for the local API and other platforms.
      return [];
    },

    encodeWill() {
      // The platform defines no will. An empty $dp frame for this device is the one message its broker surely
      // accepts and its parser stores nothing from; no retain (it is not a state topic).
      return dp(JSON.stringify({ [deviceId]: {} }));
    },

    encodeShutdown() {
      return [];
    },

    decodeCommand(topic: string, payload: Buffer, retained = false): DecodedCommand {
      const parsed = parseCommand(payload);
      if (retained) {
        // A retained request would run again on every connect (a sample, an emergency mode, a baseline).
        const name = parsed.ok ? parsed.command.name : parsed.name;
        const msgid = parsed.ok ? parsed.command.msgid : parsed.msgid;
        return failure(topic, name, msgid, 'retained commands are not accepted (publish commands with retain off)');
      }
      if (!topic.startsWith(commandPrefix) || topic.length === commandPrefix.length || topic.slice(commandPrefix.length).includes('/')) {
        const name = parsed.ok ? parsed.command.name : parsed.name;
        const msgid = parsed.ok ? parsed.command.msgid : parsed.msgid;
        return failure(topic, name, msgid, `not this device's command topic (${commandPrefix}<id>)`);
      }
      if (!parsed.ok) return failure(topic, parsed.name, parsed.msgid, parsed.error);
      try {
        return run(topic, parsed.command);
      } catch (error) {
        return failure(topic, parsed.command.name, parsed.command.msgid, `internal error: ${error instanceof Error ? error.message : String(error)}`);
      }
    },

    encodeCommandResult(outcome: CommandOutcome): OutgoingMessage | null {
      const context = outcome.context ?? {};
      const ok = outcome.status === 'done';
      const group = context.group === undefined ? undefined : pending.get(context.group);
      if (context.group !== undefined) {
        // One of several gauges: answer once, when the last is judged.
        if (!group) return null;
        if (!ok) group.failures.push(`${context.code ?? '?'}: ${outcome.message}`);
        if (--group.waiting > 0) return null;
        pending.delete(context.group);
        const allOk = group.failures.length === 0;
        return reply(replyText(group.name, allOk, group.msgid, allOk ? [] : [reasonExtra(group.failures.join('; '))]));
      }
      const name = context.cmd ?? outcome.action ?? 'unknown';
      const msgid = context.msgid ?? outcome.id ?? undefined;
      return reply(replyText(name, ok, msgid, ok ? [] : [reasonExtra(outcome.message)]));
    },

    dispose() {
      online = false;
      clearTimers();
      pending.clear();
    },

    workMode: () => mode,
    intervals: () => ({ plusMs, uploadMs, sampleS }),
  };
}
