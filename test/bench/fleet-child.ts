/**
 * One process of bench:fleet: hosts `count` gateways, each an Uplink over its own outbox (own folder, own writer
 * thread), fed by a synthetic recorder that appends `channels` readings per second. Options as JSON in argv[2].
 * Lines on stdout (JSON): {"ready": true} once every uplink has connected; on "mark" from stdin,
 * {"mark": {gateway: lastSeq}}; on "stop", appending stops, and {"final": {gateway: [firstSeq, lastSeq]}} follows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createSystemClock } from '../../agent/clock/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { openOutbox, type Outbox } from '../../agent/outbox/index.js';
import { Uplink } from '../../agent/uplink/index.js';

export interface FleetChildOptions {
  url: string;
  siteId: string;
  gateways: string[];
  channels: number;
  dir: string;
}

interface Gateway {
  id: string;
  outbox: Outbox;
  uplink: Uplink;
  firstSeq: number;
  connected: boolean;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as FleetChildOptions;
  const clock = createSystemClock({ syncSource: 'assume-synced' });
  const root = mkdtempSync(join(options.dir, 'fleet-child-'));
  const gateways: Gateway[] = [];
  let ready = false;
  const checkReady = (): void => {
    if (!ready && gateways.length === options.gateways.length && gateways.every((g) => g.connected)) {
      ready = true;
      process.stdout.write(JSON.stringify({ ready: true }) + '\n');
    }
  };
  for (const id of options.gateways) {
    const outbox = await openOutbox({ dir: join(root, id), maxBytes: 16 * 1024 * 1024 });
    const gateway: Gateway = { id, outbox, uplink: undefined as never, firstSeq: outbox.stats().lastSeq + 1, connected: false };
    gateway.uplink = new Uplink({
      gatewayId: id,
      siteId: options.siteId,
      broker: { url: options.url, protocolVersion: 5 },
      outbox,
      clock,
      logger: silentLogger(),
      birth: { version: 'bench', configHash: 'bench', channels: [] },
      trace: (e) => {
        if (e.type === 'connected') {
          gateway.connected = true;
          checkReady();
        }
      },
    });
    gateways.push(gateway);
  }
  for (const g of gateways) g.uplink.start();

  // The synthetic recorder: each gateway appends its channels once a second, gateways spread over the second.
  let appending = true;
  const timers = gateways.map((g, i) => {
    let n = 0;
    const tick = (): void => {
      if (!appending) return;
      for (let c = 0; c < options.channels; c++) {
        g.outbox.append('telemetry', { channelId: `ch${c}`, deviceId: 'dev', value: (n + c) % 100, unit: 'ppm', quality: 'good' }, clock.stamp());
      }
      n++;
    };
    return setTimeout(() => {
      tick();
      timers[i] = setInterval(tick, 1000);
    }, (1000 * i) / gateways.length);
  });

  createInterface({ input: process.stdin }).on('line', (line) => {
    const command = line.trim();
    if (command === 'mark') {
      process.stdout.write(JSON.stringify({ mark: Object.fromEntries(gateways.map((g) => [g.id, g.outbox.stats().lastSeq])) }) + '\n');
    } else if (command === 'stop') {
      appending = false;
      for (const t of timers) clearInterval(t);
      process.stdout.write(JSON.stringify({ final: Object.fromEntries(gateways.map((g) => [g.id, [g.firstSeq, g.outbox.stats().lastSeq]])) }) + '\n');
    } else if (command === 'exit') {
      void (async () => {
        for (const g of gateways) {
          await g.uplink.stop();
          await g.outbox.close();
        }
        clock.close();
        rmSync(root, { recursive: true, force: true });
        process.exit(0);
      })();
    }
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) void main();
