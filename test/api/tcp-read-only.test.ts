import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../agent/api/index.js';
import { rawApiRequest, startApiTestSite, type ApiTestSite } from '../support/api-agent.js';
import { freePort } from '../support/ports.js';

// The loopback TCP port is open to every local user, and the X-Vigil-By name is whatever the client claims:
// it serves the read-only endpoints, and commands (relays) are taken only on the 0660 Unix socket.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});


describe('local API over loopback TCP', () => {
  it('serves GET, refuses commands with 403 pointing to the socket; the socket still takes them', async () => {
    const port = await freePort();
    const site: ApiTestSite = await startApiTestSite({ api: { tcpPort: port } });
    cleanups.push(() => site.close());
    expect(site.agent.api?.tcpPort).toBe(port);

    const status = await rawApiRequest({ port }, 'GET', '/v1/status');
    expect(status.status).toBe(200);
    expect((JSON.parse(status.body) as StatusSnapshot).site.id).toBe('tank');
    expect((await rawApiRequest({ port }, 'GET', '/v1/events?limit=5')).status).toBe(200);
    expect((await rawApiRequest({ port }, 'GET', '/v1/buffer')).status).toBe(200);

    const force = JSON.stringify({ action: 'force', output: 'lamp', state: 'on', for: '20s' });
    const refused = await rawApiRequest({ port }, 'POST', '/v1/commands', force, { 'content-type': 'application/json', 'x-vigil-by': 'root' });
    expect(refused.status).toBe(403);
    const error = (JSON.parse(refused.body) as { ok: boolean; error: string }).error;
    expect(error).toContain('read-only');
    expect(error).toContain('Unix socket');
    expect(error).toContain(site.socket);
    expect(error).toContain('0660');
    // Nothing was done: no override, no event of one.
    expect(site.agent.outputs.status('lamp')?.override ?? null).toBeNull();
    expect(site.agent.events.recent(50).some((e) => e.type === 'override-set' || (e as { output?: string }).output === 'lamp')).toBe(false);

    // The same command on the socket is carried out.
    const done = await rawApiRequest({ socketPath: site.socket }, 'POST', '/v1/commands', force, { 'content-type': 'application/json', 'x-vigil-by': 'alice' });
    expect(done.status).toBe(200);
    expect(site.agent.outputs.status('lamp')?.override?.by).toBe('local:alice');
  }, 60_000);
});
