import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/log/index.js';
import { openOutbox } from '../../agent/outbox/index.js';
import { startTcpSimulator } from '../../drivers/simulator/index.js';
import { CLI } from '../support/cli.js';
import { startNotifySocket } from '../support/notify-socket.js';
import { shippedProfiles } from '../support/profiles.js';
import { ch4Channel, fanOutput, gasProbeDevice, relayBoardDevice, simulatedGasProbe, simulatedRelayBoard, tcpBusFor } from '../support/sites.js';
import { until } from '../support/until.js';

// `vigil run` as systemd runs it (NOTIFY_SOCKET, WATCHDOG_USEC), stopped the way systemd stops it (SIGTERM):
// READY=1 once polling, WATCHDOG=1 while alive, STOPPING=1, the relays go to their shutdown states on the wire,
// and the shutdown events are in the outbox on disk when the process has exited.

const profiles = shippedProfiles();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('vigil run under a service manager', () => {
  it('notifies ready, feeds the watchdog, and on SIGTERM puts the relays in their shutdown states with the outbox flushed', { timeout: 60_000 }, async () => {
    const sim = await startTcpSimulator({ devices: [simulatedGasProbe(profiles, { constant: 30 }), simulatedRelayBoard(profiles)] });
    cleanups.push(() => sim.close());
    const work = mkdtempSync(join(tmpdir(), 'vigil-run-service-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const site = {
      site: { id: 'svc', name: 'service test' },
      buses: [tcpBusFor(sim, { timeoutMs: 300, retries: 0 })],
      devices: [
        gasProbeDevice({ priority: 'critical', interval: '200ms', channels: [ch4Channel({ alarm: { gas: 'ch4', L1: { delayOn: { samples: 1 } } } })] }),
        relayBoardDevice({ channels: [{ id: 'tank.siren', register: 'relay_2' }] }),
      ],
      outputs: [
        // On at L1 (30 %LEL > 20): a sounder's safe state is off, and it goes there when the agent stops.
        { id: 'siren', kind: 'sounder', modbus: { device: 'relays', register: 'relay_2' }, when: { any: [{ alarm: 'L1', channels: ['tank.ch4'] }] }, minOn: '0s', minOff: '0s', onShutdown: 'safe' },
        // Held as it is at shutdown: stays on.
        fanOutput({ onShutdown: 'hold' }),
        { id: 'healthy', kind: 'healthy', modbus: { device: 'relays', register: 'relay_8' } },
      ],
    };
    const siteFile = join(work, 'site.yaml');
    writeFileSync(siteFile, JSON.stringify(site, null, 2));
    const dataDir = join(work, 'data');

    const notify = await startNotifySocket();
    cleanups.push(() => notify.close());
    const child = spawn(process.execPath, [CLI, 'run', '--config', siteFile], {
      env: { ...process.env, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '2000000', VIGIL_DATA_DIR: dataDir, VIGIL_MQTT_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });

    await until(() => notify.count('READY=1') === 1, 20_000, 'READY=1');
    await until(() => notify.count('WATCHDOG=1') >= 2, 10_000, 'watchdog fed');
    const coil = { fan: 0, siren: 1, healthy: 7 };
    await until(() => sim.readCoil(10, coil.siren) && sim.readCoil(10, coil.fan) && sim.readCoil(10, coil.healthy), 10_000, 'relays on');

    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(notify.count('STOPPING=1')).toBe(1);
    expect(notify.received.filter((n) => n.fields.includes('STOPPING=1')).at(-1)!.fields.join(' ')).toMatch(/SIGTERM/);
    expect(sim.readCoil(10, coil.siren)).toBe(false);
    expect(sim.readCoil(10, coil.healthy)).toBe(false);
    expect(sim.readCoil(10, coil.fan)).toBe(true);

    // The shutdown events were committed to the outbox before the process exited.
    const outbox = await openOutbox({ dir: join(dataDir, 'outbox'), maxBytes: 256 * 1024 * 1024, logger: silentLogger() });
    cleanups.push(() => outbox.close());
    const records = await outbox.read(0, 100_000, 64 * 1024 * 1024);
    const texts = records.filter((r) => r.stream === 'event').map((r) => JSON.stringify(r.payload));
    expect(texts.some((t) => t.includes('siren') && t.includes('shutdown'))).toBe(true);
  });
});
