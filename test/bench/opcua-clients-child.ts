/**
 * OPC UA clients in their own process for bench:opcua (SCADA panels are other machines: they must not share
 * the agent's event loop). Reads its options as JSON from argv[2]; connects `clients` sessions over
 * Basic256Sha256 / SignAndEncrypt, each subscribing to every node at `intervalMs`; prints {"ready":true} once
 * all are subscribed, and {"notifications":N} when told to stop (SIGTERM).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  type ClientSession,
} from 'node-opcua';

export interface OpcuaClientsOptions {
  endpointUrl: string;
  userName: string;
  password: string;
  clients: number;
  nodeIds: string[];
  intervalMs: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as OpcuaClientsOptions;
  const certificates = new OPCUACertificateManager({ rootFolder: mkdtempSync(join(tmpdir(), 'vigil-bench-clients-')), automaticallyAcceptUnknownCertificate: true });
  let notifications = 0;
  const open: Array<{ client: OPCUAClient; session: ClientSession }> = [];
  for (let i = 0; i < options.clients; i++) {
    const client = OPCUAClient.create({
      applicationName: `bench-scada-${i}`,
      securityMode: MessageSecurityMode.SignAndEncrypt,
      securityPolicy: SecurityPolicy.Basic256Sha256,
      endpointMustExist: false,
      clientCertificateManager: certificates,
      connectionStrategy: { maxRetry: 2 },
    });
    await client.connect(options.endpointUrl);
    const session = await client.createSession({ type: UserTokenType.UserName, userName: options.userName, password: options.password });
    const subscription = await session.createSubscription2({ requestedPublishingInterval: options.intervalMs, requestedMaxKeepAliveCount: 20, publishingEnabled: true });
    for (const nodeId of options.nodeIds) {
      const item = await subscription.monitor({ nodeId, attributeId: AttributeIds.Value }, { samplingInterval: options.intervalMs, queueSize: 4 }, TimestampsToReturn.Both);
      item.on('changed', () => notifications++);
    }
    open.push({ client, session });
  }
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  process.on('SIGTERM', () => {
    process.stdout.write(JSON.stringify({ notifications }) + '\n');
    void Promise.allSettled(open.map(async ({ client, session }) => {
      await session.close();
      await client.disconnect();
    })).then(() => process.exit(0));
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) void main();
