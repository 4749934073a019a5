import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProfileRegister } from '../schema/profile.js';
import { isComputed } from '../schema/profile.js';
import { parseDuration } from '../schema/common.js';
import type { ConfigError, PathSegment } from './config-error.js';
import type { Fields } from './lenient.js';
import { fieldsOf, has, isFields, listField, numberField, textField } from './lenient.js';
import type { ProfileScan, RejectedProfile } from './profiles.js';
import { checkPlatforms } from './platform-checks.js';
import { checkSafety } from './safety-checks.js';
import type { ChannelEntry, Reporter, SiteIndex } from './site-index.js';
import { didYouMean, listNames } from './suggest.js';
import type { YamlSource } from './yaml-source.js';

/**
 * The checks on a site file that need more than one part of it, or the profiles: every name refers to
 * something that exists, nothing is claimed twice, and the polling plan makes sense. They run on whatever
 * parts are well-formed, so all problems come out together. The safety part (alarms, crack grades, outputs,
 * GPIO) is checked in safety-checks.ts on the index of channels and devices built here.
 */

export interface SiteFindings {
  errors: ConfigError[];
  warnings: ConfigError[];
}

const DEFAULT_DEVICE_INTERVAL_MS = 5000;
const FAST_HINT = 'the fast interval is used while a warning is active: make it shorter';

export function checkSiteSemantics(data: unknown, source: YamlSource, scan: ProfileScan): SiteFindings {
  const findings: SiteFindings = { errors: [], warnings: [] };
  const error = (path: PathSegment[], message: string, hint?: string, at: 'key' | 'value' = 'value'): void => {
    findings.errors.push(source.problem(path, message, { hint, at }));
  };
  const warning = (path: PathSegment[], message: string, hint?: string, at: 'key' | 'value' = 'value'): void => {
    findings.warnings.push(source.problem(path, message, { hint, at }));
  };
  const index: SiteIndex = { channels: new Map(), channelList: [], devices: new Map(), gpioInputs: new Map() };

  const buses = checkBuses(listField(data, 'buses'), source, error);
  const busIds = [...buses.keys()];
  const claimedUnits = new Map<string, { device: string; index: number }>();
  const deviceIds = new Map<string, number>();
  const channelIds = new Map<string, PathSegment[]>();
  const reportedRejections = new Set<RejectedProfile>();

  listField(data, 'devices').forEach((device, d) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['devices', d, ...rest];
    const id = textField(device, 'id');
    if (id !== undefined) {
      const first = deviceIds.get(id);
      if (first !== undefined) {
        error(at('id'), `device id "${id}" is used twice`, `first at line ${source.lineOf(['devices', first, 'id'])}`);
      } else {
        deviceIds.set(id, d);
      }
    }

    const busId = textField(device, 'bus');
    const bus = busId === undefined ? undefined : buses.get(busId);
    if (busId !== undefined && !bus) {
      error(at('bus'), `no bus "${busId}"`, didYouMean(busId, busIds) ?? `buses: ${listNames(busIds) || 'none defined'}`);
    }

    const unit = numberField(device, 'unit');
    if (bus && unit !== undefined) {
      const key = `${busId}\u0000${unit}`;
      const first = claimedUnits.get(key);
      if (first) {
        error(
          at('unit'),
          `unit ${unit} is already used by device "${first.device}" on bus "${busId}"`,
          `each device on a bus needs its own unit id; the other is at line ${source.lineOf(['devices', first.index])}`,
        );
      } else {
        claimedUnits.set(key, { device: id ?? `devices[${d}]`, index: d });
      }
    }

    const profileId = textField(device, 'profile');
    const registers = profileId === undefined ? undefined : resolveProfile(profileId, at('profile'));
    if (id !== undefined && !index.devices.has(id)) index.devices.set(id, { id, path: at(), profileId, registers });
    if (registers && profileId !== undefined) {
      const profile = scan.profiles.get(profileId)!.profile;
      if (bus && isFields(bus.serial) && profile.serial) {
        const busLine = lineText(bus.serial);
        const factory = lineText(profile.serial as unknown as Fields);
        if (busLine !== factory) {
          warning(
            at('profile'),
            `profile "${profileId}" says this model ships at ${factory}; bus "${busId}" runs ${busLine}`,
            'fine if the device was reconfigured; otherwise it will not answer',
          );
        }
      }
    }

    const deviceInterval = has(device, 'interval') ? durationField(device, 'interval') : DEFAULT_DEVICE_INTERVAL_MS;
    const deviceFast = durationField(device, 'fastInterval');
    if (deviceFast !== undefined && deviceInterval !== undefined && deviceFast > deviceInterval) {
      error(
        at('fastInterval'),
        `fastInterval ${formatMs(deviceFast)} is longer than the interval (${formatMs(deviceInterval)})`,
        FAST_HINT,
      );
    }

    const mapped = new Map<string, number>();
    listField(device, 'channels').forEach((channel, c) => {
      const ch = (...rest: PathSegment[]): PathSegment[] => at('channels', c, ...rest);
      const channelId = textField(channel, 'id');
      if (channelId !== undefined) {
        const first = channelIds.get(channelId);
        if (first) {
          error(ch('id'), `channel id "${channelId}" is used twice in the site`, `first at line ${source.lineOf(first)}`);
        } else {
          channelIds.set(channelId, ch('id'));
        }
      }

      const interval = has(channel, 'interval') ? durationField(channel, 'interval') : deviceInterval;
      const fast = has(channel, 'fastInterval') ? durationField(channel, 'fastInterval') : deviceFast;
      const ownSetting = has(channel, 'fastInterval') || has(channel, 'interval');
      if (ownSetting && fast !== undefined && interval !== undefined && fast > interval) {
        const where = has(channel, 'fastInterval') ? ch('fastInterval') : ch('interval');
        error(where, `fastInterval ${formatMs(fast)} is longer than the interval ${formatMs(interval)}`, FAST_HINT);
      }

      const registerName = textField(channel, 'register');
      const register = registerName === undefined ? undefined : registers?.find((r) => r.name === registerName);
      if (isFields(channel)) {
        const entry: ChannelEntry = {
          id: channelId ?? `devices[${d}].channels[${c}]`,
          path: ch(),
          raw: channel,
          deviceId: id,
          profileId,
          register,
          intervalMs: interval,
        };
        index.channelList.push(entry);
        if (channelId !== undefined && !index.channels.has(channelId)) index.channels.set(channelId, entry);
      }
      if (!registers || registerName === undefined) return;
      if (!register) {
        const names = registers.map((r) => r.name);
        const suggestion = didYouMean(registerName, names);
        error(
          ch('register'),
          `profile "${profileId}" has no register "${registerName}"`,
          `${suggestion ? `${suggestion} ` : ''}(registers: ${listNames(names)})`,
        );
        return;
      }
      const firstChannel = mapped.get(registerName);
      if (firstChannel !== undefined) {
        warning(
          ch('register'),
          `register "${registerName}" is already mapped by channel ${channelLabel(device, firstChannel)}`,
          'one channel per register is usual',
        );
      } else {
        mapped.set(registerName, c);
      }
      checkParams(register, fieldsOf(channel), ch, error);
    });
  });

  const reporter: Reporter = { error, warning, lineOf: (path) => source.lineOf(path) };
  checkSafety(data, index, reporter);
  checkPlatforms(data, index, reporter);

  for (const rejected of scan.rejected) {
    if (!reportedRejections.has(rejected)) findings.warnings.push(...rejected.errors);
  }
  return findings;

  /** The registers of the profile, or undefined after reporting why the profile cannot be used. */
  function resolveProfile(profileId: string, path: PathSegment[]): readonly ProfileRegister[] | undefined {
    const loaded = scan.profiles.get(profileId);
    const broken = scan.rejected.filter((r) => r.id === profileId && (!loaded || r.dirIndex <= loaded.dirIndex));
    if (broken.length > 0) {
      for (const rejected of broken) {
        error(
          path,
          `profile "${profileId}" in ${rejected.file} cannot be used`,
          `${rejected.errors.length} problem(s) in that file, listed with it`,
        );
        if (!reportedRejections.has(rejected)) {
          reportedRejections.add(rejected);
          findings.errors.push(...rejected.errors);
        }
      }
      return undefined;
    }
    if (!loaded) {
      const known = [...scan.profiles.keys()].sort();
      const hint = didYouMean(profileId, known) ?? `profiles: ${listNames(known) || 'none found'}`;
      error(path, `no profile "${profileId}"`, hint);
      return undefined;
    }
    return loaded.profile.registers;
  }
}

type ErrorReport = (path: PathSegment[], message: string, hint?: string, at?: 'key' | 'value') => void;

/** Ids unique; one bus per physical port (also through symlinks like /dev/serial/by-id) or TCP endpoint. */
function checkBuses(raw: unknown[], source: YamlSource, error: ErrorReport): Map<string, Fields> {
  const buses = new Map<string, Fields>();
  const endpoints = new Map<string, { bus: string; index: number; written: string }>();
  raw.forEach((bus, b) => {
    const id = textField(bus, 'id');
    if (id !== undefined) {
      if (buses.has(id)) {
        const first = raw.findIndex((other) => textField(other, 'id') === id);
        error(['buses', b, 'id'], `bus id "${id}" is used twice`, `first at line ${source.lineOf(['buses', first, 'id'])}`);
      } else if (isFields(bus)) {
        buses.set(id, bus);
      }
    }

    const path = textField(fieldsOf(bus).serial, 'path');
    const host = textField(fieldsOf(bus).tcp, 'host');
    const port = numberField(fieldsOf(bus).tcp, 'port');
    let endpoint: { key: string; written: string; where: PathSegment[] } | undefined;
    if (path !== undefined) {
      endpoint = { key: `serial:${canonicalPort(path)}`, written: path, where: ['buses', b, 'serial', 'path'] };
    } else if (host !== undefined && port !== undefined) {
      endpoint = { key: `tcp:${host.toLowerCase()}:${port}`, written: `${host}:${port}`, where: ['buses', b, 'tcp'] };
    }
    if (!endpoint) return;
    const first = endpoints.get(endpoint.key);
    if (first) {
      const same =
        first.written === endpoint.written
          ? `"${endpoint.written}"`
          : `"${endpoint.written}" (the same port as "${first.written}")`;
      error(
        endpoint.where,
        `${same} is already used by bus "${first.bus}"`,
        'one bus per port: list all devices of that line under one bus',
      );
    } else {
      endpoints.set(endpoint.key, { bus: id ?? `buses[${b}]`, index: b, written: endpoint.written });
    }
  });
  return buses;
}

function canonicalPort(path: string): string {
  const absolute = resolve(path);
  try {
    return existsSync(absolute) ? realpathSync(absolute) : absolute;
  } catch {
    return absolute;
  }
}

function checkParams(
  register: ProfileRegister,
  channel: Fields,
  at: (...rest: PathSegment[]) => PathSegment[],
  error: ErrorReport,
): void {
  const given = isFields(channel.params) ? Object.keys(channel.params) : [];
  if (!isComputed(register)) {
    if (has(channel, 'params')) {
      const message = `register "${register.name}" is read from the device and takes no params`;
      error(at('params'), message, 'remove "params"', 'key');
    }
    return;
  }
  const declared = Object.keys(register.params);
  for (const name of given) {
    if (declared.includes(name)) continue;
    error(
      at('params', name),
      `register "${register.name}" has no param "${name}"`,
      didYouMean(name, declared) ?? (declared.length > 0 ? `params: ${declared.join(', ')}` : 'it takes no params'),
      'key',
    );
  }
  const missing = declared.filter((name) => register.params[name]?.default === undefined && !given.includes(name));
  if (missing.length > 0) {
    const described = missing.map((name) => {
      const description = register.params[name]?.description?.replace(/\.$/, '');
      return description ? `${name}: ${description}` : name;
    });
    error(
      has(channel, 'params') ? at('params') : at('register'),
      `register "${register.name}" needs param${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`,
      `add under "params" — ${described.join('; ')}`,
      has(channel, 'params') ? 'key' : 'value',
    );
  }
}

function durationField(object: unknown, key: string): number | undefined {
  const text = textField(object, key);
  return text === undefined ? undefined : parseDuration(text);
}

function formatMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function lineText(line: Fields): string {
  const baud = numberField(line, 'baud') ?? 9600;
  const dataBits = numberField(line, 'dataBits') ?? 8;
  const parity = ({ none: 'N', even: 'E', odd: 'O' } as Record<string, string>)[textField(line, 'parity') ?? 'none'] ?? '?';
  const stopBits = numberField(line, 'stopBits') ?? 1;
  return `${baud} ${dataBits}${parity}${stopBits}`;
}

function channelLabel(device: unknown, index: number): string {
  const id = textField(listField(device, 'channels')[index], 'id');
  return id === undefined ? `#${index + 1}` : `"${id}"`;
}
