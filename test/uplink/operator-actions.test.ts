import { describe, expect, it } from 'vitest';
import { CHANNEL_ACTIONS, operatorActionOf } from '../../agent/uplink/profiles/operator-actions.js';

describe('platform command names → operator actions', () => {
  it('takes both spellings of set-baseline, a platform its own aliases, and passes other names on as they are', () => {
    expect(operatorActionOf('acknowledge')).toBe('acknowledge');
    expect(operatorActionOf('set_baseline')).toBe('set-baseline');
    expect(operatorActionOf('set-baseline')).toBe('set-baseline');
    expect(operatorActionOf('setBaseline')).toBe('setBaseline');
    expect(operatorActionOf('setBaseline', new Map([['setBaseline', 'set-baseline']]))).toBe('set-baseline');
    expect(operatorActionOf('reboot')).toBe('reboot');
    // A name that is also an Object.prototype member is still only a name.
    expect(operatorActionOf('constructor')).toBe('constructor');
  });

  it('knows which actions name a channel', () => {
    expect([...CHANNEL_ACTIONS].sort()).toEqual(['acknowledge', 'reset', 'set-baseline']);
    expect(CHANNEL_ACTIONS.has('force')).toBe(false);
  });
});
