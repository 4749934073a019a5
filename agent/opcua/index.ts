/**
 * The OPC UA server for local SCADA and HMI panels (docs/opcua.md): the gateway's channels, diagnostics,
 * outputs and state, limit alarms, Force / Release / ResetBaseline methods, and HistoryRead from a local store.
 *
 * Cost: this module loads no OPC UA code. Disabled, nothing else happens; enabled, node-opcua is imported (by
 * import(), in ./server.js) only after the first poll has published its readings, and never before it.
 */
import { join } from 'node:path';
import type { OpcuaSettings } from '../../config/index.js';
import { HistoryStore } from '../history/index.js';
import type { Logger } from '../log/index.js';
import type { OpcuaSources, RunningOpcuaServer } from './sources.js';

export type { OpcuaSources, RunningOpcuaServer } from './sources.js';
export { REASON_STATUS, readingStatus, type OpcuaStatusName } from './status-map.js';
export { hashPassword, loadUsers, parseUsers, UsersFileError, ROLES, type OpcuaUser, type Role } from './users.js';

export interface OpcuaOptions {
  settings: OpcuaSettings;
  dataDir: string;
  sources: OpcuaSources;
  logger: Logger;
  version?: string;
}

export interface OpcuaHandle {
  /** Resolves with the running server once it listens; with undefined if it could not start (logged). */
  readonly ready: Promise<RunningOpcuaServer | undefined>;
  readonly history: HistoryStore;
  stop(): Promise<void>;
}

/**
 * Starts the OPC UA server once the first readings have been published: returns at once. Undefined when the
 * settings leave it off. A server that fails to start is logged and leaves the agent running without it.
 */
export function startOpcuaAfterFirstPoll(options: OpcuaOptions): OpcuaHandle | undefined {
  const { settings, dataDir, sources } = options;
  if (!settings.enabled) return undefined;
  const log = options.logger.child({ part: 'opcua' });

  const history = new HistoryStore({
    dir: join(dataDir, 'history'),
    maxBytes: settings.historyMaxBytes,
    maxAgeMs: settings.historyMaxAgeHours * 3_600_000,
    clockSynced: () => sources.clock.synced,
    onError: (error) => log.error({ err: error }, 'reading history: write failed'),
  });
  const stopFeeding = sources.stream.subscribe((readings) => history.append(readings));

  let stopping = false;
  let resolveFirstPoll!: () => void;
  const firstPoll = new Promise<void>((resolve) => (resolveFirstPoll = resolve));
  const stopWaiting = sources.stream.subscribe(() => {
    stopWaiting();
    // A later turn of the event loop: the readings go on to the safety loop first.
    setImmediate(resolveFirstPoll);
  });

  const ready = firstPoll.then(async () => {
    if (stopping) return undefined;
    try {
      await history.ready;
      const { startServer } = await import('./server.js');
      if (stopping) return undefined;
      return await startServer({ settings, dataDir, sources, history, logger: log, version: options.version ?? '0.0.0' });
    } catch (error) {
      log.error({ err: error }, 'OPC UA server could not start: the gateway runs on without it');
      return undefined;
    }
  });

  return {
    ready,
    history,
    async stop() {
      stopping = true;
      stopWaiting();
      resolveFirstPoll();
      const server = await ready;
      await server?.stop();
      stopFeeding();
      await history.close();
    },
  };
}
