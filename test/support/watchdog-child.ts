// The watchdog test's agent: a real agent polling a simulated gas probe over RTU-over-TCP, linked to the notify
// socket named by NOTIFY_SOCKET exactly as `vigil run` links it. Lines on stdin drive it:
//   silent  → the probe stops answering (a dead device: its timeouts are still readings)
//   stall   → the poll scheduler stops cycling (the field loop is stalled; the event loop stays free)
//   ping    → answers "pong", proving the event loop is free
// It prints "ready" once READY=1 is out, and "liveness <json>" after each command.
import { createInterface } from 'node:readline';
import { site as siteSchema } from '../../config/schema/index.js';
import { startTcpSimulator } from '../../drivers/simulator/index.js';
import { silentLogger } from '../../agent/log/index.js';
import { startAgent } from '../../agent/main/index.js';
import { startServiceLink } from '../../agent/service/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../config/index.js';
import { profile as profileSchema, type Profile } from '../../config/schema/index.js';
import { ch4Channel, gasProbeDevice, simulatedGasProbe, tcpBusFor } from './sites.js';

// Compiled, this runs from dist/: the shipped profile is read from the sources.
const gas: Profile = profileSchema.parse(parse(readFileSync(join(packageRoot(), 'drivers/profiles/gas-module-10reg.yaml'), 'utf8')));
const profiles = new Map([[gas.id, gas]]);
const sim = await startTcpSimulator({ devices: [simulatedGasProbe(profiles, { constant: 3 })] });
const agent = await startAgent({
  site: siteSchema.parse({
    site: { id: 'watchdog', name: 'watchdog test' },
    buses: [tcpBusFor(sim, { retries: 0 })],
    devices: [gasProbeDevice({ interval: '200ms', channels: [ch4Channel({ alarm: { gas: 'ch4' } })] })],
  }),
  profiles,
  logger: silentLogger(),
});
const link = startServiceLink({
  env: process.env,
  logger: silentLogger(),
  liveness: () => agent.safety.liveness(),
  summary: () => '1 device',
});
if (!link) throw new Error('NOTIFY_SOCKET not set');
await link.ready;
process.stdout.write('ready\n');

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'silent') sim.setFault(1, { kind: 'silent' });
  else if (line === 'stall') agent.scheduler.stop();
  else if (line === 'ping') process.stdout.write('pong\n');
  else if (line === 'quit') break;
  process.stdout.write(`liveness ${JSON.stringify(agent.safety.liveness())}\n`);
}
process.stdin.destroy();
await link.stopping('test over');
await agent.stop();
await link.close();
await sim.close();
