import { checkChannelAlarm } from './alarm-checks.js';
import type { PathSegment } from './config-error.js';
import { checkCrack } from './crack-checks.js';
import { checkGpioInputs } from './gpio-checks.js';
import { GpioLineClaims } from './gpio-lines.js';
import { fieldsOf, has, listField } from './lenient.js';
import { checkOutputs } from './output-checks.js';
import type { Reporter, SiteIndex } from './site-index.js';
import { didYouMean, listNames } from './suggest.js';

/**
 * The checks on the local safety control of a site: alarm levels and crack grades per channel, GPIO inputs,
 * and the outputs with their rules. They run after the devices have been indexed, so a rule may name a
 * channel written further down the file.
 */
export function checkSafety(data: unknown, index: SiteIndex, report: Reporter): void {
  const lines = new GpioLineClaims(report);
  checkGpioInputs(data, index, lines, report);
  for (const channel of index.channelList) {
    if (has(channel.raw, 'alarm')) {
      checkChannelAlarm(channel, report);
      checkAccelerate(channel.raw.alarm, [...channel.path, 'alarm', 'accelerate'], index, report);
    }
    if (has(channel.raw, 'crack')) {
      checkCrack(channel, report);
      checkAccelerate(channel.raw.crack, [...channel.path, 'crack', 'accelerate'], index, report);
    }
  }
  checkOutputs(data, index, lines, report);
}

function checkAccelerate(owner: unknown, path: PathSegment[], index: SiteIndex, report: Reporter): void {
  const known = [...index.devices.keys()];
  listField(fieldsOf(owner), 'accelerate').forEach((id, i) => {
    if (typeof id !== 'string' || index.devices.has(id)) return;
    report.error([...path, i], `no device "${id}"`, didYouMean(id, known) ?? `devices: ${listNames(known)}`);
  });
}
