import type convict from 'convict';

/** The OPC UA server for local SCADA and HMI panels (see docs/opcua.md). */
export interface OpcuaSettings {
  enabled: boolean;
  port: number;
  /** File of `name:role:scrypt-hash` lines; null = <dataDir>/opcua/users. */
  usersFile: string | null;
  allowAnonymous: boolean;
  allowUnsecured: boolean;
  /** Accept client application certificates not yet trusted (commissioning); off: they wait in pki/rejected. */
  trustUnknownClients: boolean;
  /** Local history for HistoryRead: at most this many bytes on disk … */
  historyMaxBytes: number;
  /** … and readings no older than this many hours. */
  historyMaxAgeHours: number;
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** A switch; an environment variable arrives as text ("true", "false", "1", "0") and is made a boolean later. */
function switchFormat(value: unknown): void {
  if (typeof value === 'boolean') return;
  if (typeof value === 'string' && [...TRUE_WORDS, ...FALSE_WORDS].includes(value.toLowerCase())) return;
  throw new Error('must be true or false');
}

function wholeNumberBetween(min: number, max: number, what: string): (value: unknown) => void {
  return (value) => {
    const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
      throw new Error(`must be ${what}, ${min}–${max}`);
    }
  };
}

function pathFormat(value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') throw new Error('must be a file path');
}

export const opcuaSettingsSchema: convict.Schema<OpcuaSettings> = {
  enabled: {
    doc: 'Serve the gateway over OPC UA to local SCADA / HMI panels. Off: the OPC UA library is never loaded.',
    format: switchFormat,
    default: false,
    env: 'VIGIL_OPCUA_ENABLED',
  },
  port: {
    doc: 'TCP port of the OPC UA server (all interfaces).',
    format: wholeNumberBetween(1, 65535, 'a TCP port'),
    default: 4840,
    env: 'VIGIL_OPCUA_PORT',
  },
  usersFile: {
    doc: 'OPC UA users, one "name:role:hash" line each (role operator or viewer; hash from `node dist/agent/opcua/hash-password.js`). Unset: <dataDir>/opcua/users.',
    format: pathFormat,
    nullable: true,
    default: null,
    env: 'VIGIL_OPCUA_USERS_FILE',
  },
  allowAnonymous: {
    doc: 'Let clients in without a user name (read-only; they can never move an output).',
    format: switchFormat,
    default: false,
    env: 'VIGIL_OPCUA_ALLOW_ANONYMOUS',
  },
  allowUnsecured: {
    doc: 'Also offer the unsigned, unencrypted endpoint (security policy None). Off: Basic256Sha256 and Aes256_Sha256_RsaPss, Sign or SignAndEncrypt, only.',
    format: switchFormat,
    default: false,
    env: 'VIGIL_OPCUA_ALLOW_UNSECURED',
  },
  trustUnknownClients: {
    doc: 'Accept any client application certificate. Off: an unknown client is refused and its certificate lands in <dataDir>/opcua/pki/rejected, to be moved to pki/trusted/certs by hand.',
    format: switchFormat,
    default: false,
    env: 'VIGIL_OPCUA_TRUST_UNKNOWN_CLIENTS',
  },
  historyMaxBytes: {
    doc: 'Disk the local reading history (served by HistoryRead) may use, bytes; over it the oldest hour goes first.',
    format: wholeNumberBetween(1024 * 1024, 64 * 1024 * 1024 * 1024, 'a size in bytes'),
    default: 64 * 1024 * 1024,
    env: 'VIGIL_OPCUA_HISTORY_MAX_BYTES',
  },
  historyMaxAgeHours: {
    doc: 'Readings older than this many hours leave the local history.',
    format: wholeNumberBetween(1, 24 * 366, 'a number of hours'),
    default: 168,
    env: 'VIGIL_OPCUA_HISTORY_MAX_AGE_HOURS',
  },
};

function toSwitch(value: boolean | string): boolean {
  return typeof value === 'boolean' ? value : TRUE_WORDS.includes(value.toLowerCase());
}

/** Turns values that came from the environment as text into their types (after validation). */
export function normaliseOpcuaSettings(opcua: OpcuaSettings): OpcuaSettings {
  opcua.enabled = toSwitch(opcua.enabled);
  opcua.allowAnonymous = toSwitch(opcua.allowAnonymous);
  opcua.allowUnsecured = toSwitch(opcua.allowUnsecured);
  opcua.trustUnknownClients = toSwitch(opcua.trustUnknownClients);
  opcua.port = Number(opcua.port);
  opcua.historyMaxBytes = Number(opcua.historyMaxBytes);
  opcua.historyMaxAgeHours = Number(opcua.historyMaxAgeHours);
  return opcua;
}
