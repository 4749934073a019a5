import { afterEach, describe, expect, it } from 'vitest';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { startAgentChild, stopAgentChild } from '../bench/support/opcua-agent.js';
import { freePort } from '../support/ports.js';
import { shippedProfiles } from '../support/profiles.js';
import { simulatedGasProbe } from '../support/sites.js';

// The cost rule: with OPC UA off, node-opcua is never loaded. Each agent runs in its own process (the test
// process itself has loaded node-opcua for other tests); the child reports its CommonJS module cache. The
// enabled run shows the check can see node-opcua when it is there.

const profiles = shippedProfiles();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulator(): Promise<RunningSimulator> {
  const sim = await startTcpSimulator({ devices: [1, 2].map((unit) => simulatedGasProbe(profiles, { constant: 3 }, unit)) });
  cleanups.push(() => sim.close());
  if (sim.endpoint.kind !== 'tcp') throw new Error('tcp expected');
  return sim;
}

describe('OPC UA cost when disabled', () => {
  it('a disabled server never loads node-opcua; an enabled one does, after the first reading', async () => {
    const sim = await simulator();
    const simPort = sim.endpoint.kind === 'tcp' ? sim.endpoint.port : 0;
    const off = await startAgentChild({ simPort, channels: 2, intervalMs: 100, opcua: null });
    cleanups.push(() => stopAgentChild(off.child));
    expect(off.ready.opcuaLoaded).toBe(false);

    const on = await startAgentChild({ simPort, channels: 2, intervalMs: 100, opcua: { port: await freePort(), usersFileText: '' } });
    cleanups.push(() => stopAgentChild(on.child));
    expect(on.ready.opcuaLoaded).toBe(true);
    expect(on.ready.firstReadingMs).toBeLessThanOrEqual(on.ready.readyMs);
  }, 90_000);
});
