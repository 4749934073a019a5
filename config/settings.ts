import { readFileSync } from 'node:fs';
import convict from 'convict';
import { parse as parseYaml } from 'yaml';
import { closest } from './load/suggest.js';
import { apiSettingsSchema, normaliseApiSettings, type ApiSettings } from './api-settings.js';
import { normaliseOpcuaSettings, opcuaSettingsSchema, type OpcuaSettings } from './opcua-settings.js';

/**
 * Settings: what differs between two gateways running the same site file — where the broker is, where the
 * credentials and data live, how much to log. Precedence, lowest first: defaults, the settings file, VIGIL_*
 * environment variables, explicit args (the command line). Secrets never appear here, only the paths of the
 * files that hold them (systemd credentials, mounted secrets).
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface MqttSettings {
  url: string | null;
  protocol: '5' | '3.1.1';
  topicPrefix: string;
  hmacKeyFile: string | null;
  requireSignature: 'never' | 'guarded' | 'always';
  usernameFile: string | null;
  passwordFile: string | null;
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
}

export interface OutboxSettings {
  maxBytes: number;
  flushIntervalMs: number;
}

export interface Settings {
  gatewayId: string | null;
  outbox: OutboxSettings;
  dataDir: string;
  logLevel: LogLevel;
  siteFile: string;
  mqtt: MqttSettings;
  api: ApiSettings;
  opcua: OpcuaSettings;
}

export interface SettingsProblem {
  /** The setting, in dot notation (mqtt.url); "" for the settings file as a whole. */
  key: string;
  /** Its environment variable, when it has one. */
  env: string | null;
  /** Where the offending value came from. */
  source: 'default' | 'file' | 'env' | 'args';
  message: string;
  hint?: string;
}

export class SettingsError extends Error {
  constructor(readonly problems: SettingsProblem[]) {
    super(
      `invalid settings (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${describeProblem(p)}`).join('\n'),
    );
    this.name = 'SettingsError';
  }
}

function describeProblem(problem: SettingsProblem): string {
  const where = problem.key === '' ? 'settings file' : problem.key;
  const origins: Record<SettingsProblem['source'], string> = {
    env: problem.env ? ` (from ${problem.env})` : '',
    file: ' (from the settings file)',
    args: ' (from the command line)',
    default: '',
  };
  const origin = origins[problem.source];
  return `${where}${origin}: ${problem.message}${problem.hint ? ` (${problem.hint})` : ''}`;
}

const GATEWAY_ID = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'];

function gatewayIdFormat(value: unknown): void {
  if (typeof value !== 'string' || !GATEWAY_ID.test(value)) {
    throw new Error('must be letters, digits, "_", "." or "-", starting with a letter (max 64)');
  }
}

function pathFormat(value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') throw new Error('must be a file or folder path');
}

function mqttUrlFormat(value: unknown): void {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !MQTT_PROTOCOLS.includes(url.protocol)) {
    throw new Error('must be a broker URL like mqtts://broker.example.org:8883 (mqtt, mqtts, ws or wss)');
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error('must not contain credentials: use mqtt.usernameFile and mqtt.passwordFile');
  }
}

function logLevelFormat(value: unknown): void {
  if (!(LOG_LEVELS as readonly unknown[]).includes(value)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
}

function oneOf<T extends string>(values: readonly T[]): (value: unknown) => void {
  return (value) => {
    if (!(values as readonly unknown[]).includes(value)) throw new Error(`must be one of ${values.join(', ')}`);
  };
}

/** Whole numbers; an environment variable arrives as text and is turned into a number after validation. */
function wholeNumber(min: number): (value: unknown) => void {
  return (value) => {
    const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min) throw new Error(`must be a whole number ≥ ${min}`);
  };
}

const secretFile = (env: string, doc: string): convict.SchemaObj<string | null> => ({
  doc,
  format: pathFormat,
  nullable: true,
  default: null,
  env,
});

/** The settings schema; the reference table in docs/configuration.md is generated from it. */
export const settingsSchema: convict.Schema<Settings> = {
  gatewayId: {
    doc: "The gateway's id on the platform. Unset: derived from the site id.",
    format: gatewayIdFormat,
    nullable: true,
    default: null,
    env: 'VIGIL_GATEWAY_ID',
  },
  dataDir: {
    doc: 'Folder for the durable outbox and the state that survives restarts (alarm latches, baselines, counters).',
    format: pathFormat,
    default: '/var/lib/vigil',
    env: 'VIGIL_DATA_DIR',
  },
  outbox: {
    maxBytes: {
      doc: 'Disk the outbox may use, bytes; over it the oldest telemetry is dropped first, events last.',
      format: wholeNumber(1024 * 1024),
      default: 256 * 1024 * 1024,
      env: 'VIGIL_OUTBOX_MAX_BYTES',
    },
    flushIntervalMs: {
      doc: 'Telemetry is committed to disk this often, ms (events at once): the most a power cut can lose.',
      format: wholeNumber(10),
      default: 1000,
      env: 'VIGIL_OUTBOX_FLUSH_INTERVAL_MS',
    },
  },
  logLevel: {
    doc: `Least severe log level written: ${LOG_LEVELS.join(', ')}.`,
    format: logLevelFormat,
    default: 'info',
    env: 'VIGIL_LOG_LEVEL',
  },
  siteFile: {
    doc: 'The site file to run.',
    format: pathFormat,
    default: '/etc/vigil/site.yaml',
    env: 'VIGIL_SITE',
  },
  mqtt: {
    url: {
      doc: 'Broker URL, e.g. mqtts://broker.example.org:8883. Unset: no uplink (local control still runs).',
      format: mqttUrlFormat,
      nullable: true,
      default: null,
      env: 'VIGIL_MQTT_URL',
    },
    protocol: {
      doc: 'MQTT protocol version: 5, or 3.1.1 for brokers that lack 5.',
      format: oneOf(['5', '3.1.1'] as const),
      default: '5' as const,
      env: 'VIGIL_MQTT_PROTOCOL',
    },
    topicPrefix: {
      doc: 'First topic level(s) of the native profile: <prefix>/<site>/<gateway>/telemetry|events|state|command.',
      format: (value: unknown) => {
        if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(value)) {
          throw new Error('must be topic levels of letters, digits, "_" or "-", separated by "/" (no wildcards)');
        }
      },
      default: 'vigil',
      env: 'VIGIL_MQTT_TOPIC_PREFIX',
    },
    hmacKeyFile: secretFile('VIGIL_MQTT_HMAC_KEY_FILE', 'File holding the shared key for HMAC-signed platform commands.'),
    requireSignature: {
      doc: 'Which platform commands must be HMAC-signed: never, guarded (those that move outputs or change config), always.',
      format: oneOf(['never', 'guarded', 'always'] as const),
      default: 'guarded' as const,
      env: 'VIGIL_MQTT_REQUIRE_SIGNATURE',
    },
    usernameFile: secretFile('VIGIL_MQTT_USERNAME_FILE', 'File holding the MQTT user name.'),
    passwordFile: secretFile('VIGIL_MQTT_PASSWORD_FILE', 'File holding the MQTT password (or platform key).'),
    caFile: secretFile('VIGIL_MQTT_CA_FILE', "PEM file of the CA that signed the broker's certificate."),
    certFile: secretFile('VIGIL_MQTT_CERT_FILE', 'PEM client certificate, for brokers that authenticate by certificate.'),
    keyFile: secretFile('VIGIL_MQTT_KEY_FILE', 'PEM private key of the client certificate.'),
  },
  api: apiSettingsSchema,
  opcua: opcuaSettingsSchema,
};

export interface SettingDescription {
  key: string;
  env: string | null;
  default: unknown;
  doc: string;
  nullable: boolean;
}

interface Leaf {
  key: string;
  spec: convict.SchemaObj;
}

function leaves(schema: object, prefix = ''): Leaf[] {
  return Object.entries(schema).flatMap(([name, value]: [string, object]) => {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    return 'default' in value ? [{ key, spec: value as convict.SchemaObj }] : leaves(value, key);
  });
}

/** Every setting with its environment variable, default and description, in schema order. */
export function describeSettings(): SettingDescription[] {
  return leaves(settingsSchema).map(({ key, spec }) => ({
    key,
    env: spec.env ?? null,
    default: spec.default,
    doc: spec.doc ?? '',
    nullable: spec.nullable === true,
  }));
}

export interface LoadSettingsOptions {
  /** A settings file, YAML or JSON, with the same keys (nested: mqtt: { url: … }). */
  file?: string;
  /** The environment to read VIGIL_* variables from; process.env unless given. */
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence overrides, keyed by setting ("mqtt.url" or nested); undefined values are ignored. */
  args?: Record<string, unknown>;
}

/** Loads the settings; throws SettingsError naming every wrong key and environment variable at once. */
export function loadSettings(opts: LoadSettingsOptions = {}): Settings {
  const known = leaves(settingsSchema);
  const knownKeys = known.map((leaf) => leaf.key);
  const problems: SettingsProblem[] = [];
  const envOf = (key: string): string | null => known.find((leaf) => leaf.key === key)?.spec.env ?? null;

  // An empty VIGIL_X= (as systemd EnvironmentFile lines often leave them) means "not set".
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(opts.env ?? process.env)) {
    if (value !== undefined && value !== '') env[name] = value;
  }
  const config = convict(settingsSchema, { env, args: [] });

  const fromFile = opts.file === undefined ? {} : readSettingsFile(opts.file, problems);
  const fileValues = flattenInput(fromFile, knownKeys, 'file', problems, envOf);
  const argValues = flattenInput(opts.args ?? {}, knownKeys, 'args', problems, envOf);
  const nested: Record<string, unknown> = {};
  for (const [key, value] of fileValues) setNested(nested, key, value);
  config.load(nested);
  for (const [key, value] of argValues) config.set(key, value);

  for (const { key, spec } of known) {
    const value: unknown = config.get(key as 'dataDir');
    if (value === null && spec.nullable) continue;
    try {
      (spec.format as (v: unknown) => void)(value);
    } catch (error) {
      const fromEnv = spec.env !== undefined && env[spec.env] !== undefined;
      const source = argValues.has(key) ? 'args' : fromEnv ? 'env' : fileValues.has(key) ? 'file' : 'default';
      const message = `${(error as Error).message}, got ${JSON.stringify(value)}`;
      const problem: SettingsProblem = { key, env: spec.env ?? null, source, message };
      if (key === 'logLevel' && typeof value === 'string') {
        const match = closest(value, LOG_LEVELS);
        if (match) problem.hint = `did you mean "${match}"?`;
      }
      problems.push(problem);
    }
  }

  const settings = config.getProperties() as Settings;
  settings.outbox.maxBytes = Number(settings.outbox.maxBytes);
  settings.outbox.flushIntervalMs = Number(settings.outbox.flushIntervalMs);
  normaliseApiSettings(settings.api);
  normaliseOpcuaSettings(settings.opcua);
  if ((settings.mqtt.certFile === null) !== (settings.mqtt.keyFile === null)) {
    const missing = settings.mqtt.certFile === null ? 'mqtt.certFile' : 'mqtt.keyFile';
    problems.push({
      key: missing,
      env: envOf(missing),
      source: 'default',
      message: 'a client certificate needs both mqtt.certFile and mqtt.keyFile',
    });
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

function readSettingsFile(file: string, problems: SettingsProblem[]): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push({ key: '', env: null, source: 'file', message: `cannot read ${file}: ${(error as Error).message}` });
    return {};
  }
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    problems.push({ key: '', env: null, source: 'file', message: `${file} is not valid YAML/JSON: ${reason}` });
    return {};
  }
}

/** Known keys of a nested or dotted object; unknown keys become problems with a "did you mean". */
function flattenInput(
  input: unknown,
  knownKeys: readonly string[],
  source: 'file' | 'args',
  problems: SettingsProblem[],
  envOf: (key: string) => string | null,
): Map<string, unknown> {
  const values = new Map<string, unknown>();
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    problems.push({ key: '', env: null, source, message: 'expected a mapping of settings' });
    return values;
  }
  const visit = (object: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(object)) {
      if (value === undefined) continue;
      const key = prefix === '' ? name : `${prefix}.${name}`;
      if (knownKeys.includes(key)) {
        values.set(key, value);
      } else if (knownKeys.some((k) => k.startsWith(`${key}.`))) {
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
          visit(value as Record<string, unknown>, key);
        } else {
          const message = `expected a mapping of ${key}.* settings, got ${JSON.stringify(value)}`;
          problems.push({ key, env: null, source, message });
        }
      } else {
        const match = closest(key, knownKeys);
        const problem: SettingsProblem = { key, env: null, source, message: 'is not a setting' };
        const matchEnv = match === undefined ? null : envOf(match);
        problem.hint = match
          ? `did you mean "${match}"${matchEnv ? ` (env ${matchEnv})` : ''}?`
          : `settings: ${knownKeys.join(', ')}`;
        problems.push(problem);
      }
    }
  };
  visit(input as Record<string, unknown>, '');
  return values;
}

function setNested(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}
