import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startBroker, type TestBroker } from '../support/broker.js';

/** The built transport: the check runs in a fresh process, whose module cache nothing else has touched. */
const TRANSPORT = fileURLToPath(new URL('../../dist/agent/uplink/transport.js', import.meta.url));
if (!existsSync(TRANSPORT)) throw new Error(`${TRANSPORT} is missing: run "npm run build" first`);

/** Connects once through the agent's transport, then says which transports of mqtt.js were loaded. */
const CHILD = `
import { createRequire } from 'node:module';
const { openConnection } = await import(process.argv[1]);
const connection = await openConnection({
  url: process.argv[2], clientId: 'footprint', protocolVersion: 4, credentials: {}, rejectUnauthorized: true,
  keepaliveSec: 30, connectTimeoutMs: 5000, will: { topic: 'footprint/will', payload: Buffer.from('gone'), retain: false },
});
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ ws: loaded.some((path) => path.includes('/node_modules/ws/')), tls: process.moduleLoadList.some((name) => name === 'NativeModule tls') }));
await connection.end();
`;

let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

function connectInChild(url: string): Promise<{ ws: boolean; tls: boolean }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD, TRANSPORT, url], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as { ws: boolean; tls: boolean });
    });
  });
}

describe('uplink transport: what a connection loads', () => {
  it('an mqtt:// connection works without loading the WebSocket transport or TLS (together about 1.8 MiB of heap)', async () => {
    broker = await startBroker();
    const loaded = await connectInChild(broker.url);
    expect(loaded).toEqual({ ws: false, tls: false });
  });
});
