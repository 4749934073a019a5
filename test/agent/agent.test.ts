import { afterEach, describe, expect, it } from 'vitest';
import { site as siteSchema, type SiteInput } from '../../config/schema/index.js';
import type { Reading } from '../../drivers/reading.js';
import { startSerialSimulator, startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { shippedProfiles } from '../support/profiles.js';
import { until as waitUntil } from '../support/until.js';

const profiles = shippedProfiles();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function gasProbe(id: string, unit: number, bus: string, interval = '200ms') {
  return {
    id,
    bus,
    unit,
    profile: 'gas-module-10reg',
    priority: 'critical' as const,
    interval,
    breaker: { failures: 2, minBackoff: '5s', maxBackoff: '30s' },
    channels: [{ id: `${id}.gas`, register: 'concentration', range: { min: 0, max: 100 } }],
  };
}

function collect(agent: RunningAgent): Map<string, Reading[]> {
  const byChannel = new Map<string, Reading[]>();
  agent.stream.subscribe((readings) => {
    for (const r of readings) byChannel.set(r.channelId, [...(byChannel.get(r.channelId) ?? []), r]);
  });
  return byChannel;
}

const until = (condition: () => boolean, timeoutMs = 10_000): Promise<void> => waitUntil(condition, timeoutMs);

async function run(input: SiteInput): Promise<RunningAgent> {
  const agent = await startAgent({ site: siteSchema.parse(input), profiles, logger: silentLogger() });
  cleanups.push(() => agent.stop());
  return agent;
}

async function simulator(start: Promise<RunningSimulator>): Promise<RunningSimulator> {
  const sim = await start;
  cleanups.push(() => sim.close());
  return sim;
}

describe('agent over RTU-over-TCP', () => {
  it('keeps polling good probes while others are silent, spew garbage or answer too late', async () => {
    const gas = profiles.get('gas-module-10reg')!;
    const crack = profiles.get('crack-drawwire-s16')!;
    const sim = await simulator(
      startTcpSimulator({
        devices: [
          { unit: 1, profile: gas, values: { unit_code: { constant: 0x2400 }, concentration: { constant: 12.5 } } },
          { unit: 2, profile: gas, fault: { kind: 'silent' } },
          { unit: 3, profile: gas, fault: { kind: 'garbage' } },
          { unit: 4, profile: gas, fault: { kind: 'slow', delayMs: 1500 } },
          { unit: 5, profile: crack, values: { displacement: { constant: -12.3 } } },
        ],
      }),
    );
    if (sim.endpoint.kind !== 'tcp') throw new Error('tcp expected');
    const agent = await run({
      site: { id: 't', name: 'test' },
      buses: [{ id: 'b', tcp: { host: sim.endpoint.host, port: sim.endpoint.port }, timeoutMs: 300, retries: 1 }],
      devices: [
        gasProbe('good', 1, 'b'),
        gasProbe('silent', 2, 'b'),
        gasProbe('garbage', 3, 'b'),
        gasProbe('slow', 4, 'b'),
        {
          id: 'crack',
          bus: 'b',
          unit: 5,
          profile: 'crack-drawwire-s16',
          interval: '200ms',
          channels: [{ id: 'crack.d', register: 'displacement' }],
        },
      ],
    });
    const seen = collect(agent);
    await until(() => (seen.get('good.gas')?.length ?? 0) >= 15 && (seen.get('crack.d')?.length ?? 0) >= 15);

    const good = seen.get('good.gas')!;
    expect(good.every((r) => r.quality === 'good' && r.value === 12.5 && r.unit === '%LEL')).toBe(true);
    expect(seen.get('crack.d')!.every((r) => r.quality === 'good' && r.value === -12.3)).toBe(true);

    // The misbehaving ones are faults with a reason, never a number.
    for (const id of ['silent.gas', 'garbage.gas', 'slow.gas']) {
      const readings = seen.get(id) ?? [];
      expect(readings.length).toBeGreaterThan(0);
      expect(readings.every((r) => r.quality === 'bad' && r.value === null)).toBe(true);
    }
    expect(seen.get('silent.gas')!.map((r) => r.reason)).toContain('timeout');
    expect(seen.get('garbage.gas')!.some((r) => r.reason === 'framing' || r.reason === 'crc')).toBe(true);
    // After two failed polls the breaker keeps the dead probe off the wire.
    await until(() => (seen.get('silent.gas') ?? []).some((r) => r.reason === 'breaker-open'));
    const bus = agent.buses.get('b')!;
    expect(bus.deviceCounters('silent').breaker.state).not.toBe('closed');
  });
});

describe('agent over a serial port (socat pty)', () => {
  let pty: PtyPair;

  it('reads through a real serial port and recovers by itself when the adapter is unplugged and replugged', async () => {
    pty = await startPtyPair();
    cleanups.push(() => pty.stop());
    const line = { baud: 19200, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const };
    const gas = profiles.get('gas-module-10reg')!;
    const startSim = () =>
      startSerialSimulator({
        path: pty.b,
        line,
        devices: [{ unit: 7, profile: gas, values: { unit_code: { constant: 0x0400 }, concentration: { constant: 4.2 } } }],
      });
    let sim = await startSim();
    const agent = await run({
      site: { id: 't', name: 'test' },
      buses: [{ id: 'usb0', serial: { path: pty.a, ...line }, timeoutMs: 300 }],
      devices: [{ ...gasProbe('h2s', 7, 'usb0'), breaker: { failures: 50, minBackoff: '1s', maxBackoff: '1s' } }],
    });
    const seen = collect(agent);
    await until(() => (seen.get('h2s.gas') ?? []).some((r) => r.quality === 'good'));
    expect(seen.get('h2s.gas')!.find((r) => r.quality === 'good')).toMatchObject({ value: 4.2, unit: 'ppm' });

    // Unplug: both pty ends vanish. The agent must notice, report port-down, and carry on.
    await sim.close();
    await pty.restart();
    seen.clear();
    await until(() => (seen.get('h2s.gas') ?? []).some((r) => r.quality === 'bad'));
    sim = await startSim();
    cleanups.push(() => sim.close());
    await until(() => (seen.get('h2s.gas') ?? []).some((r) => r.quality === 'good'), 20_000);
    expect(agent.buses.get('usb0')!.counters().reconnects).toBeGreaterThanOrEqual(1);
  });
});
