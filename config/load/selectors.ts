import { didYouMean, listNames } from './suggest.js';

/**
 * Channel selectors in output rules: a channel id, or a pattern where "*" stands for any run of characters
 * ("tank1.*" is every channel whose id starts with "tank1."). The safety side matches them with the same
 * function, so what `vigil check` says a rule covers is what the rule covers.
 */

export function isPattern(selector: string): boolean {
  return selector.includes('*');
}

export function selectorRegExp(selector: string): RegExp {
  const parts = selector.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/** The ids the selector matches, in the order given. */
export function matchSelector(selector: string, ids: Iterable<string>): string[] {
  if (!isPattern(selector)) return [...ids].filter((id) => id === selector);
  const pattern = selectorRegExp(selector);
  return [...ids].filter((id) => pattern.test(id));
}

/**
 * The hint for a selector that matches nothing: the closest id, or for a pattern with one "*" the closest
 * pattern that would match something ("tnak1.*" → "tank1.*"); otherwise the ids there are.
 */
export function selectorHint(selector: string, ids: readonly string[]): string {
  const stars = selector.split('*').length - 1;
  if (stars === 0) return didYouMean(selector, ids) ?? `channels: ${listNames(ids) || 'none defined'}`;
  if (stars === 1) {
    const [head = '', tail = ''] = selector.split('*');
    const shapes = new Set<string>();
    for (const id of ids) {
      if (id.length < head.length + tail.length) continue;
      shapes.add(`${id.slice(0, head.length)}*${tail === '' ? '' : id.slice(id.length - tail.length)}`);
    }
    const suggestion = didYouMean(selector, shapes);
    if (suggestion) return suggestion;
  }
  return `channels: ${listNames(ids) || 'none defined'}`;
}
