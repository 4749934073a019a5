import type { OpcuaSettings, Profile, Site } from '../../config/index.js';
import type { ModbusBus } from '../bus/index.js';
import type { Clock } from '../clock/index.js';
import type { CommandHandler } from '../commands/index.js';
import type { HistoryStore } from '../history/index.js';
import type { Logger } from '../log/index.js';
import type { Outbox } from '../outbox/index.js';
import type { LatestReadings, ReadingStream } from '../readings/index.js';
import type { AlarmEngine, OutputController, SafetyEventLog } from '../safety/index.js';

/** What the OPC UA server shows and acts on: the running agent's parts, read-only except through `commands`. */
export interface OpcuaSources {
  site: Site;
  profiles: ReadonlyMap<string, Profile>;
  stream: ReadingStream;
  latest: LatestReadings;
  alarms: AlarmEngine;
  outputs: OutputController;
  /** The one command path (platform, CLI, OPC UA): methods and Acknowledge go through it. */
  commands: CommandHandler;
  buses: ReadonlyMap<string, ModbusBus>;
  events: SafetyEventLog;
  clock: Clock;
  /** Present when the agent keeps an outbox (settings with a data directory). */
  outbox?: Pick<Outbox, 'stats' | 'read'> | undefined;
  /** Present when a broker is configured. */
  uplink?: { stats(): { state: string } } | undefined;
}

export interface OpcuaServerOptions {
  settings: OpcuaSettings;
  /** Certificates go to <dataDir>/opcua/pki, the default users file is <dataDir>/opcua/users. */
  dataDir: string;
  sources: OpcuaSources;
  history: HistoryStore;
  logger: Logger;
  version: string;
}

export interface RunningOpcuaServer {
  /** opc.tcp://host:port (the first endpoint). */
  endpointUrl: string;
  stop(): Promise<void>;
}
