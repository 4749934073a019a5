import { describe, expect, it } from 'vitest';
import { RESTORED_FORCE_OFF_CAP_MS, type OutputSnapshot } from '../../../agent/safety/outputs/index.js';
import { MINUTE, gasSite, harness, tankFan } from './helpers.js';

const relay = { id: 'gate', kind: 'relay', when: { any: [{ alarm: 'L2', channels: ['tank1.*'] }] } };

function forced(outputId: string, state: 'on' | 'off', remainingMs: number, by = 'bob'): OutputSnapshot {
  return { version: 1, outputs: { [outputId]: { commanded: state === 'on', cause: 'forced', override: { state, remainingMs, by } } } };
}

describe('overrides across a restart', () => {
  it('subtracts the known downtime from what was left', () => {
    const h = harness({ outputs: [tankFan], safety: gasSite(), restore: forced('tank1.fan', 'on', 30 * MINUTE), restoreDowntimeMs: 10 * MINUTE });
    expect(h.controller.status('tank1.fan')?.override).toMatchObject({ state: 'on', remainingMs: 20 * MINUTE });
  });

  it('does not restore an override that expired while the agent was stopped, and says so', () => {
    const h = harness({
      outputs: [{ ...tankFan, onStartup: 'persisted' }],
      safety: gasSite(),
      restore: forced('tank1.fan', 'off', 30 * MINUTE),
      restoreDowntimeMs: 45 * MINUTE,
    });
    expect(h.controller.status('tank1.fan')?.override).toBeUndefined();
    const expired = h.eventsOf('override-expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ outputId: 'tank1.fan', by: 'bob', cause: 'force off by bob expired while the agent was stopped' });
  });

  it('unknown downtime: a restored force OFF of a fan or sounder lasts at most 5 minutes', async () => {
    const siren = { id: 'siren', kind: 'sounder', when: { any: [{ alarm: 'L2', channels: ['tank1.*'] }] } };
    const restore: OutputSnapshot = {
      version: 1,
      outputs: {
        ...forced('tank1.fan', 'off', 60 * MINUTE).outputs,
        ...forced('siren', 'off', 60 * MINUTE).outputs,
        ...forced('gate', 'off', 60 * MINUTE).outputs,
      },
    };
    const h = harness({ outputs: [tankFan, siren, relay], safety: gasSite(), restore });
    expect(RESTORED_FORCE_OFF_CAP_MS).toBe(5 * MINUTE);
    expect(h.controller.status('tank1.fan')?.override?.remainingMs).toBe(5 * MINUTE);
    expect(h.controller.status('siren')?.override?.remainingMs).toBe(5 * MINUTE);
    // not safety equipment, and a force on is not a decision to silence it: today's behaviour
    expect(h.controller.status('gate')?.override?.remainingMs).toBe(60 * MINUTE);

    h.safety.set('tank1.ch4', { level: 'L2', value: 60 });
    h.controller.evaluate();
    await h.run(5 * MINUTE);
    expect(h.controller.status('tank1.fan')?.commanded).toBe(true);
    expect(h.controller.status('siren')?.commanded).toBe(true);
  });

  it('unknown downtime: a restored force ON keeps what was left', () => {
    const h = harness({ outputs: [tankFan], safety: gasSite(), restore: forced('tank1.fan', 'on', 60 * MINUTE) });
    expect(h.controller.status('tank1.fan')?.override?.remainingMs).toBe(60 * MINUTE);
  });
});
