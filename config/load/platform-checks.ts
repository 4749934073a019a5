import type { PathSegment } from './config-error.js';
import { fieldsOf, isFields, listField, textField } from './lenient.js';
import type { Reporter, SiteIndex } from './site-index.js';
import { didYouMean, listNames } from './suggest.js';

/**
 * Cross-references of the platforms list: ids unique, every channel or device a mapping names exists, and no
 * platform code used twice (the platform would merge two channels into one series).
 */
export function checkPlatforms(data: unknown, index: SiteIndex, report: Reporter): void {
  const platforms = listField(fieldsOf(data), 'platforms');
  const seen = new Map<string, PathSegment[]>();
  const channelIds = [...index.channels.keys()];
  const deviceIds = [...index.devices.keys()];

  platforms.forEach((raw, i) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['platforms', i, ...rest];
    const id = textField(raw, 'id');
    if (id !== undefined) {
      const first = seen.get(id);
      if (first) report.error(at('id'), `platform id "${id}" is used twice`, `first at line ${report.lineOf(first)}`);
      else seen.set(id, at('id'));
    }
    const profile = textField(raw, 'profile');
    const options = profile ? fieldsOf(fieldsOf(raw)[profile]) : {};

    const knownKeys = (mapping: unknown, path: PathSegment[], known: readonly string[], what: 'channel' | 'device'): void => {
      if (!isFields(mapping)) return;
      for (const key of Object.keys(mapping)) {
        if (known.includes(key)) continue;
        report.error([...path, key], `no ${what} "${key}"`, didYouMean(key, known) ?? `${what}s: ${listNames(known)}`, 'key');
      }
    };
    const uniqueValues = (mapping: unknown, path: PathSegment[], pick: (value: unknown) => string | undefined, what: string): void => {
      if (!isFields(mapping)) return;
      const used = new Map<string, string>();
      for (const [key, value] of Object.entries(mapping)) {
        const code = pick(value);
        if (code === undefined) continue;
        const other = used.get(code);
        if (other !== undefined) report.error([...path, key], `${what} "${code}" is also given to "${other}"`, 'each channel needs its own');
        else used.set(code, key);
      }
    };

    switch (profile) {
      case 'geohazard':
        knownKeys(options.channels, at('geohazard', 'channels'), channelIds, 'channel');
        uniqueValues(options.channels, at('geohazard', 'channels'), (v) => (typeof v === 'string' ? v : undefined), 'code');
        for (const [field, channel] of Object.entries(fieldsOf(options.statusChannels))) {
          if (typeof channel !== 'string' || channelIds.includes(channel)) continue;
          report.error(at('geohazard', 'statusChannels', field), `no channel "${channel}"`, didYouMean(channel, channelIds) ?? `channels: ${listNames(channelIds)}`);
        }
        break;
      case 'iotda':
        knownKeys(options.devices, at('iotda', 'devices'), deviceIds, 'device');
        knownKeys(options.services, at('iotda', 'services'), channelIds, 'channel');
        // One property of one service per sub-device: channels of different sub-devices may share names (tank1
        // and tank2 both report Gas.ch4). An entry without "property" is named after its channel: no clash.
        if (isFields(options.services)) {
          const devices = fieldsOf(options.devices);
          const named = Object.fromEntries(
            Object.entries(options.services).map(([channel, v]) => {
              const service = textField(v, 'service');
              const device = index.channels.get(channel)?.deviceId;
              const subDevice = device === undefined ? '' : (textField(devices, device) ?? device);
              return [channel, service === undefined ? undefined : `${service}.${textField(v, 'property') ?? channel} on ${subDevice}`];
            }),
          );
          uniqueValues(named, at('iotda', 'services'), (v) => (typeof v === 'string' ? v : undefined), 'service property');
        }
        break;
      case 'thingsboard':
        knownKeys(options.devices, at('thingsboard', 'devices'), deviceIds, 'device');
        uniqueValues(options.devices, at('thingsboard', 'devices'), (v) => textField(v, 'name'), 'device name');
        break;
      default:
        break;
    }
  });
}
