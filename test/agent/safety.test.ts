import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { site as siteSchema, type SiteInput } from '../../config/schema/index.js';
import { startTcpSimulator, type RunningSimulator, type ValueScript } from '../../drivers/simulator/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { shippedProfiles } from '../support/profiles.js';
import { ch4Alarm, ch4Channel, fanOutput, gasProbeDevice, relayBoardDevice, simulatedGasProbe, simulatedRelayBoard, tcpBusFor } from '../support/sites.js';
import { until as waitUntil } from '../support/until.js';

// The whole loop over real Modbus RTU bytes: simulated probe → bus → alarm engine → output → coil on the
// simulated relay board. Time is real here (short min-on times); the exact timing rules have their own
// simulated-time tests in test/safety.

const profiles = shippedProfiles();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = (condition: () => boolean, timeoutMs = 15_000): Promise<void> => waitUntil(condition, timeoutMs);

async function tank(concentration: ValueScript): Promise<RunningSimulator> {
  const sim = await startTcpSimulator({ devices: [simulatedGasProbe(profiles, concentration), simulatedRelayBoard(profiles)] });
  cleanups.push(() => sim.close());
  return sim;
}

function site(sim: RunningSimulator): SiteInput {
  return {
    site: { id: 'tank', name: 'tank' },
    buses: [tcpBusFor(sim, { retries: 0 })],
    devices: [
      gasProbeDevice({ priority: 'critical', breaker: { failures: 100 }, channels: [ch4Channel({ alarm: ch4Alarm(2, { faultAfter: 2 }) })] }),
      relayBoardDevice(),
    ],
    outputs: [fanOutput({ when: { any: [{ alarm: 'L1', channels: ['tank.ch4'] }, { fault: true, channels: ['tank.ch4'] }] }, minOn: '1500ms' })],
  };
}

async function start(input: SiteInput, dataDir?: string): Promise<RunningAgent> {
  const agent = await startAgent({ site: siteSchema.parse(input), profiles, logger: silentLogger(), ...(dataDir ? { dataDir } : {}) });
  cleanups.push(() => agent.stop());
  return agent;
}

const fanCoil = (sim: RunningSimulator) => sim.readCoil(10, 0);

describe('local safety over a real bus', () => {
  it('starts the fan when methane passes L1, and stops it after the gas clears and its minimum run time', async () => {
    const sim = await tank({ constant: 4 });
    const agent = await start(site(sim));
    // At start the fan runs until the probe has spoken (fail-safe), then for its minimum run time.
    await until(() => agent.alarms.channel('tank.ch4')?.value === 4);
    await until(() => !fanCoil(sim));
    expect(agent.alarms.channel('tank.ch4')?.level).toBe('normal');

    sim.setValue(1, 'concentration', { constant: 30 });
    await until(() => fanCoil(sim));
    expect(agent.alarms.channel('tank.ch4')?.level).toBe('L1');
    expect(agent.outputs.status('fan')?.cause).toMatch(/tank\.ch4/);
    sim.setValue(1, 'concentration', { constant: 4 });

    await until(() => agent.alarms.channel('tank.ch4')?.level === 'normal');
    await until(() => !fanCoil(sim));
    const types = agent.events.recent(50).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['alarm-raised', 'output-on', 'alarm-cleared', 'output-off']));
    expect(types.lastIndexOf('output-off')).toBeGreaterThan(types.lastIndexOf('alarm-cleared'));
  });

  it('keeps the fan on when the probe dies in the middle of an alarm (fail-safe)', async () => {
    const sim = await tank({ constant: 30 });
    const agent = await start(site(sim));
    await until(() => fanCoil(sim));
    sim.setFault(1, { kind: 'silent' });
    await until(() => agent.alarms.channel('tank.ch4')?.fault === true);
    // Long past the minimum run time: the fan must still be running, because the probe can no longer say all clear.
    await new Promise((r) => setTimeout(r, 2500));
    expect(fanCoil(sim)).toBe(true);
    expect(agent.outputs.status('fan')?.commanded).toBe(true);
    expect(agent.events.recent(50).map((e) => e.type)).toContain('fault');
  });

  it('a latched L2 survives a restart and is released only by an acknowledgement once the gas is gone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-safety-'));
    const high = await tank({ constant: 60 });
    const first = await start(site(high), dataDir);
    await until(() => first.alarms.channel('tank.ch4')?.level === 'L2');
    await until(() => fanCoil(high));
    await first.stop();
    cleanups.pop();

    const again = await tank({ constant: 60 });
    const second = await start(site(again), dataDir);
    await until(() => second.alarms.channel('tank.ch4')?.value === 60);
    expect(second.alarms.channel('tank.ch4')).toMatchObject({ level: 'L2', latched: true });
    await until(() => fanCoil(again));

    const refused = second.commands.execute({ action: 'reset', channel: 'tank.ch4' }, 'test');
    expect(refused).toMatchObject({ ok: false });
    again.setValue(1, 'concentration', { constant: 4 });
    await until(() => second.alarms.channel('tank.ch4')?.value === 4);
    // The gas is gone, but the latch holds until someone acknowledges it.
    await new Promise((r) => setTimeout(r, 500));
    expect(second.alarms.channel('tank.ch4')).toMatchObject({ level: 'L2', latched: true });
    const acked = second.commands.execute({ action: 'acknowledge', channel: 'tank.ch4' }, 'test');
    expect(acked.ok).toBe(true);
    await until(() => second.alarms.channel('tank.ch4')?.level === 'normal');
  });

  it('refuses a malformed command and changes nothing', async () => {
    const sim = await tank({ constant: 4 });
    const agent = await start(site(sim));
    const before = agent.outputs.status('fan')?.override;
    const results = [
      agent.commands.execute({ action: 'force', output: 'fan', state: 'on' }, 'test'),
      agent.commands.execute({ action: 'force', output: 'fan', state: 'maybe', for: '1m' }, 'test'),
      agent.commands.execute({ action: 'force', output: 'fna', state: 'on', for: '1m' }, 'test'),
      agent.commands.execute({ action: 'explode' }, 'test'),
      agent.commands.execute('{not json', 'test'),
    ];
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(results[0]).toMatchObject({ ok: false, error: expect.stringContaining('for') });
    expect(agent.outputs.status('fan')?.override).toEqual(before);
  });

  it('starts and protects the site even when its stored state is nonsense', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-badstate-'));
    writeFileSync(
      join(dataDir, 'state.json'),
      JSON.stringify({
        version: 1,
        sections: {
          gpio: { lid: -1 },
          alarms: { bogus: true },
          outputs: { version: 1, outputs: { fan: { commanded: 'yes', override: { state: 'sideways', remainingMs: -5 } } } },
        },
      }),
    );
    const sim = await tank({ constant: 30 });
    const agent = await start(site(sim), dataDir);
    await until(() => agent.alarms.channel('tank.ch4')?.level === 'L1');
    await until(() => fanCoil(sim));
    expect(agent.outputs.status('fan')?.override).toBeUndefined();
  });
});
