/**
 * Channel selectors of the rules: an id, or a pattern where "*" stands for any run of characters (dots
 * included, so "tank1.*" also takes "tank1.ch4.raw"). Patterns are resolved once against the site's channels.
 */

export interface ResolvedSelector {
  selector: string;
  /** The matching channel ids; a plain id is kept even when the site does not list it (it then has no data). */
  channelIds: string[];
}

export function isPattern(selector: string): boolean {
  return selector.includes('*');
}

export function resolveSelector(selector: string, siteChannelIds: readonly string[]): ResolvedSelector {
  if (!isPattern(selector)) return { selector, channelIds: [selector] };
  const pattern = new RegExp(
    '^' +
      selector
        .split('*')
        .map((part) => part.replace(/[.\\+?^${}()|[\]-]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return { selector, channelIds: siteChannelIds.filter((id) => pattern.test(id)) };
}

export function resolveSelectors(selectors: readonly string[], siteChannelIds: readonly string[]): ResolvedSelector[] {
  return selectors.map((selector) => resolveSelector(selector, siteChannelIds));
}
