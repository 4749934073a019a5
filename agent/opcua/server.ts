/**
 * The node-opcua part of the OPC UA server. Loaded only by index.ts, through import(), once the server is
 * enabled and the first poll is done: a gateway without OPC UA never loads the library.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy } from 'node-opcua';
import type { Reading } from '../../drivers/reading.js';
import { AlarmMirror } from './alarms.js';
import { GatewayModel, type GatewayFigures } from './model.js';
import type { OpcuaServerOptions, RunningOpcuaServer } from './sources.js';
import { loadUsers, verifyUser, type OpcuaUser } from './users.js';

/** Basic256Sha256 (RSA-OAEP, so it works where Node refuses PKCS#1 v1.5 decryption) and the newer RSA-PSS policy. */
const SECURE_POLICIES = [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes256_Sha256_RsaPss];
const REFRESH_MS = 1000;
const OUTBOX_AGE_MS = 5000;

export function usersFileOf(options: Pick<OpcuaServerOptions, 'settings' | 'dataDir'>): string {
  return options.settings.usersFile ?? join(options.dataDir, 'opcua', 'users');
}

export async function startServer(options: OpcuaServerOptions): Promise<RunningOpcuaServer> {
  const { settings, sources, logger } = options;
  const log = logger;
  const usersFile = usersFileOf(options);
  const users: readonly OpcuaUser[] = loadUsers(usersFile);
  if (users.length === 0 && !settings.allowAnonymous) {
    log.warn({ usersFile }, 'OPC UA: no users in the users file and anonymous login is off: nobody can sign in');
  }

  const pki = join(options.dataDir, 'opcua', 'pki');
  mkdirSync(pki, { recursive: true });
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: pki,
    automaticallyAcceptUnknownCertificate: settings.trustUnknownClients,
  });
  const userCertificateManager = new OPCUACertificateManager({ rootFolder: join(options.dataDir, 'opcua', 'user-pki'), automaticallyAcceptUnknownCertificate: false });

  const securityPolicies = settings.allowUnsecured ? [SecurityPolicy.None, ...SECURE_POLICIES] : SECURE_POLICIES;
  const securityModes = settings.allowUnsecured
    ? [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt]
    : [MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt];

  const server = new OPCUAServer({
    port: settings.port,
    serverCertificateManager,
    userCertificateManager,
    securityPolicies,
    securityModes,
    allowAnonymous: settings.allowAnonymous,
    isAuditing: false,
    disableDiscovery: false,
    buildInfo: { productName: 'Vigil gateway', productUri: 'urn:vigil:gateway', manufacturerName: 'Vigil', softwareVersion: options.version },
    serverInfo: { applicationUri: `urn:vigil:${sources.site.site.id}`, productUri: 'urn:vigil:gateway', applicationName: { text: `Vigil ${sources.site.site.id}` } },
    serverCapabilities: { maxSessions: 20, maxSubscriptionsPerSession: 10 },
    userManager: {
      isValidUserAsync: (userName: string, password: string, callback: (error: Error | null, ok?: boolean) => void) => {
        verifyUser(users, userName, password).then(
          (user) => {
            if (!user) log.warn({ user: userName }, 'OPC UA: sign-in refused');
            callback(null, user !== undefined);
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      },
    },
  });
  await server.initialize();

  const addressSpace = server.engine.addressSpace;
  if (!addressSpace) throw new Error('OPC UA address space missing after initialize');
  const namespace = addressSpace.getOwnNamespace();
  const figures: GatewayFigures = { outboxOldestAgeS: null };
  const model = new GatewayModel(sources, options.history, () => users, figures);
  model.build(namespace);
  const alarms = new AlarmMirror(sources, () => users);
  alarms.install(namespace, model.channelNodes);

  // Readings reach the address space after the safety loop has seen them, on a later turn of the event loop,
  // and only the latest per channel: a busy client never stands between a reading and a relay.
  let waiting = new Map<string, Reading>();
  let scheduled = false;
  const unsubscribe = sources.stream.subscribe((readings) => {
    for (const reading of readings) waiting.set(reading.channelId, reading);
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const batch = waiting;
      waiting = new Map();
      model.update(batch.values());
      alarms.refresh();
    });
  });
  let refreshScheduled = false;
  const unsubscribeEvents = sources.events.subscribe(() => {
    if (refreshScheduled) return;
    refreshScheduled = true;
    setImmediate(() => {
      refreshScheduled = false;
      alarms.refresh();
    });
  });
  const refresher = setInterval(() => {
    alarms.refresh();
    model.markSilent();
  }, REFRESH_MS);
  refresher.unref();
  const outbox = sources.outbox;
  const ageWatch = setInterval(() => {
    if (!outbox) return;
    const { oldestSeq } = outbox.stats();
    if (oldestSeq === null) {
      figures.outboxOldestAgeS = null;
      return;
    }
    outbox.read(oldestSeq - 1, 1, 64 * 1024).then(
      ([oldest]) => (figures.outboxOldestAgeS = oldest ? Math.max(0, (Date.now() - (oldest.correctedWallTs ?? oldest.wallTs)) / 1000) : null),
      () => undefined,
    );
  }, OUTBOX_AGE_MS);
  ageWatch.unref();

  await server.start();
  const endpointUrl = server.getEndpointUrl();
  log.info(
    { endpointUrl, securityPolicies: securityPolicies.map((p) => p.split('#')[1]), anonymous: settings.allowAnonymous, users: users.length },
    'OPC UA server ready',
  );

  return {
    endpointUrl,
    async stop() {
      unsubscribe();
      unsubscribeEvents();
      clearInterval(refresher);
      clearInterval(ageWatch);
      await server.shutdown(500);
      await Promise.allSettled([serverCertificateManager.dispose(), userCertificateManager.dispose()]);
    },
  };
}
