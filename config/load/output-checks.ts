import { parseDuration } from '../schema/common.js';
import { isComputed } from '../schema/profile.js';
import type { PathSegment } from './config-error.js';
import type { GpioLineClaims } from './gpio-lines.js';
import type { Fields } from './lenient.js';
import { fieldsOf, has, isFields, listField, textField } from './lenient.js';
import { RuleChecker } from './rule-checks.js';
import type { Reporter, SiteIndex } from './site-index.js';
import { didYouMean, listNames } from './suggest.js';

/**
 * The checks on `outputs`: each relay exists, can be switched and is driven by one output only; each rule
 * (rule-checks.ts) names channels that exist and can make it fire; every override expires.
 */

const DAY_MS = 86_400_000;
const MAX_MIN_OFF_MS = 3_600_000;

type Kind = 'fan' | 'sounder' | 'relay' | 'healthy';

export function checkOutputs(data: unknown, index: SiteIndex, lines: GpioLineClaims, report: Reporter): void {
  const outputIds = new Map<string, PathSegment[]>();
  const coils = new Map<string, { owner: string; path: PathSegment[] }>();
  const rules = new RuleChecker(index, report);

  listField(data, 'outputs').forEach((raw, o) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['outputs', o, ...rest];
    if (!isFields(raw)) return;
    const id = textField(raw, 'id');
    const kind = (textField(raw, 'kind') ?? 'relay') as Kind;
    const owner = id === undefined ? `outputs[${o}]` : `output "${id}"`;

    if (id !== undefined) checkId(id, at('id'));

    const hasModbus = has(raw, 'modbus');
    const hasGpio = has(raw, 'gpio');
    if (!hasModbus && !hasGpio) {
      report.error(at(), 'an output needs "modbus" (a relay board coil) or "gpio" (a line of the gateway)');
    } else if (hasModbus && hasGpio) {
      const message = 'an output is driven either through "modbus" or through "gpio", not both';
      report.error(at('gpio'), message, 'remove one', 'key');
    } else if (hasModbus) {
      checkModbusTarget(fieldsOf(raw.modbus), owner, at('modbus'));
    } else {
      lines.claim(raw.gpio, owner, at('gpio'));
    }

    if (kind === 'healthy') {
      for (const key of ['when', 'interlock', 'persistentAfter'] as const) {
        if (has(raw, key)) {
          report.error(
            at(key),
            `the healthy output has no rule: it is on while the safety loop runs, so "${key}" does not apply`,
            `remove "${key}"`,
            'key',
          );
        }
      }
      if (textField(raw, 'safeState') === 'on') {
        report.error(
          at('safeState'),
          'the healthy output must drop when the agent cannot decide: its safe state is off',
          'remove "safeState"',
        );
      }
    } else if (!has(raw, 'when')) {
      report.error(
        at('when'),
        `missing "when": a ${kind} output needs the rule that switches it on`,
        'e.g. when: { any: [ { alarm: L1, channels: ["tank1.*"] } ] }',
      );
    } else {
      listField(fieldsOf(raw.when), 'any').forEach((condition, c) => {
        rules.condition(fieldsOf(condition), at('when', 'any', c));
      });
    }

    if (isFields(raw.interlock)) {
      const level = textField(raw.interlock, 'alarm');
      rules.selectors(raw.interlock, at('interlock'), level === 'L1' || level === 'L2' ? { alarm: level } : {});
    }
    if (isFields(raw.feedback)) {
      rules.contact(textField(raw.feedback, 'channel'), at('feedback', 'channel'), 'feedback');
    }

    if (kind === 'fan' && textField(raw, 'safeState') === 'off') {
      report.warning(
        at('safeState'),
        'a fan whose safe state is off stays off when a gas probe fails',
        'fail-safe ventilation keeps the default (on) unless the fan must never run unattended',
      );
    }
    checkTimes(raw, kind, at);
  });

  function checkId(id: string, path: PathSegment[]): void {
    const first = outputIds.get(id);
    const channel = index.channels.get(id)?.path ?? index.gpioInputs.get(id)?.path;
    if (first) {
      report.error(path, `output id "${id}" is used twice`, `first at line ${report.lineOf(first)}`);
    } else if (channel) {
      report.error(
        path,
        `output id "${id}" is already a channel id`,
        `channel at line ${report.lineOf(channel)}; give the output its own id (events and topics name both)`,
      );
      outputIds.set(id, path);
    } else {
      outputIds.set(id, path);
    }
  }

  function checkModbusTarget(modbus: Fields, owner: string, path: PathSegment[]): void {
    const deviceId = textField(modbus, 'device');
    const registerName = textField(modbus, 'register');
    if (deviceId === undefined) return;
    const device = index.devices.get(deviceId);
    if (!device) {
      const known = [...index.devices.keys()];
      const hint = didYouMean(deviceId, known) ?? `devices: ${listNames(known)}`;
      report.error([...path, 'device'], `no device "${deviceId}"`, hint);
      return;
    }
    if (registerName === undefined || !device.registers) return;
    const writable = device.registers
      .filter((r) => !isComputed(r) && r.writable && (r.fn === 1 || r.fn === 3))
      .map((r) => r.name);
    const switchable =
      writable.length > 0 ? `switchable here: ${listNames(writable)}` : `profile "${device.profileId}" has nothing writable`;
    const register = device.registers.find((r) => r.name === registerName);
    if (!register) {
      const names = device.registers.map((r) => r.name);
      report.error(
        [...path, 'register'],
        `profile "${device.profileId}" of device "${deviceId}" has no register "${registerName}"`,
        didYouMean(registerName, writable) ?? didYouMean(registerName, names) ?? switchable,
      );
      return;
    }
    if (isComputed(register)) {
      const message = `register "${registerName}" is computed on the gateway and cannot be switched`;
      report.error([...path, 'register'], message, switchable);
      return;
    }
    if (register.fn === 2 || register.fn === 4) {
      const table = register.fn === 2 ? 'a discrete input (fn 2)' : 'an input register (fn 4)';
      const message = `register "${registerName}" is ${table}: read-only on every Modbus device`;
      report.error([...path, 'register'], message, switchable);
      return;
    }
    if (!register.writable) {
      report.error(
        [...path, 'register'],
        `register "${registerName}" is not writable in profile "${device.profileId}"`,
        writable.length > 0 ? switchable : 'if the device accepts writes there, set "writable: true" in the profile',
      );
      return;
    }
    const key = `${deviceId}\u0000${register.fn}\u0000${register.address}\u0000${register.bit ?? ''}`;
    const first = coils.get(key);
    if (first) {
      report.error(
        [...path, 'register'],
        `${registerName} of device "${deviceId}" is already driven by ${first.owner}`,
        `first at line ${report.lineOf(first.path)}; one output per relay, or the rules fight over it`,
      );
    } else {
      coils.set(key, { owner, path });
    }
  }

  function checkTimes(raw: Fields, kind: Kind, at: (...rest: PathSegment[]) => PathSegment[]): void {
    const ms = (key: string, owner: unknown = raw): number | undefined => {
      const text = textField(owner, key);
      return text === undefined ? undefined : parseDuration(text);
    };
    const minOn = ms('minOn');
    const minOff = ms('minOff');
    // The healthy output cannot be forced, so its maxOverride means nothing.
    const maxOverride = kind === 'healthy' ? undefined : ms('maxOverride');
    const persistent = ms('persistentAfter');
    const within = ms('within', raw.feedback);
    if (kind !== 'healthy' && minOn !== undefined && minOn > DAY_MS) {
      report.error(at('minOn'), 'a minimum on-time above a day is no minimum', 'the fan default is 10m');
    }
    // No fan/sounder limit: the output controller starts them for an alarm or a fault even inside minOff.
    if (minOff !== undefined && minOff > MAX_MIN_OFF_MS) {
      const message = 'a minimum off-time above an hour keeps the output from its rule';
      report.error(at('minOff'), message, 'at most 1h; the default is 2m');
    }
    if (maxOverride === 0) {
      const message = 'maxOverride must be longer than 0: an override that expires at once cannot be used';
      report.error(at('maxOverride'), message, 'the default is 8h');
    } else if (maxOverride !== undefined && maxOverride > DAY_MS) {
      report.error(
        at('maxOverride'),
        'a manual override may last at most a day',
        'longer than that is a change of the site file, not an override',
      );
    }
    if (persistent === 0) report.error(at('persistentAfter'), 'persistentAfter must be longer than 0', 'e.g. "45m"');
    if (within === 0) {
      report.error(at('feedback', 'within'), 'feedback within 0 cannot be met', 'allow the contactor a few seconds, e.g. "10s"');
    }
  }
}
