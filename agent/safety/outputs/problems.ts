import type { Output } from '../../../config/schema/index.js';
import { isPattern, resolveSelector } from './selectors.js';

/**
 * Selectors that point at nothing, for the config check to show with their place in the site file. At run time
 * such a selector under a fan's alarm condition keeps the fan on (fail-safe), so it must not go unnoticed.
 */
export function outputSelectorProblems(outputs: readonly Output[], siteChannelIds: readonly string[]): string[] {
  const known = new Set(siteChannelIds);
  const problems: string[] = [];
  for (const output of outputs) {
    const selectors = [
      ...(output.when?.any ?? []).flatMap((condition) => ('channels' in condition ? condition.channels : [condition.input])),
      ...(output.interlock?.channels ?? []),
      ...(output.feedback ? [output.feedback.channel] : []),
    ];
    for (const selector of new Set(selectors)) {
      if (isPattern(selector)) {
        if (resolveSelector(selector, siteChannelIds).channelIds.length === 0) {
          problems.push(`output ${output.id}: "${selector}" matches no channel`);
        }
      } else if (!known.has(selector)) {
        problems.push(`output ${output.id}: there is no channel "${selector}"`);
      }
    }
  }
  return problems;
}
