import { readFileSync } from 'node:fs';
import { Secret } from './secret.js';

/** Where the broker credentials come from: files (systemd credentials, mounted secrets) or the environment. */
export interface CredentialSources {
  usernameFile?: string | null;
  passwordFile?: string | null;
  caFile?: string | null;
  certFile?: string | null;
  keyFile?: string | null;
  /** Read for VIGIL_MQTT_USERNAME and VIGIL_MQTT_PASSWORD when the files are not given; process.env unless set. */
  env?: NodeJS.ProcessEnv;
  /** A password alone is fine: the platform profile derives the user name (a device id) at connect. */
  allowPasswordOnly?: boolean;
}

export interface BrokerCredentials {
  username?: string;
  password?: Secret;
  /** CA certificate(s) that signed the broker's certificate (PEM). */
  ca?: Buffer;
  /** Client certificate for mutual TLS (PEM). */
  cert?: Buffer;
  /** Private key of the client certificate (PEM). */
  key?: Secret;
}

export const USERNAME_ENV = 'VIGIL_MQTT_USERNAME';
export const PASSWORD_ENV = 'VIGIL_MQTT_PASSWORD';

/** A credential that could not be read: names the file or variable, never the content. */
export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CredentialsError(`${what} file ${path}: ${code}`);
  }
}

/** One-line secrets: a trailing newline (as editors and `echo` leave) is not part of them. */
function oneLine(buffer: Buffer): string {
  return buffer.toString('utf8').replace(/\r?\n$/, '');
}

/**
 * Reads the broker credentials once, at start. The password and private key are returned as Secrets, which
 * print as "[redacted]" wherever they end up.
 */
export function readBrokerCredentials(sources: CredentialSources): BrokerCredentials {
  const env = sources.env ?? process.env;
  const credentials: BrokerCredentials = {};
  const username = sources.usernameFile ? oneLine(readFile(sources.usernameFile, 'MQTT user name')) : env[USERNAME_ENV];
  if (username !== undefined && username !== '') credentials.username = username;
  const password = sources.passwordFile ? oneLine(readFile(sources.passwordFile, 'MQTT password')) : env[PASSWORD_ENV];
  if (password !== undefined && password !== '') credentials.password = new Secret(password);
  if (credentials.password && credentials.username === undefined && !sources.allowPasswordOnly) {
    throw new CredentialsError(`an MQTT password is given without a user name (set mqtt.usernameFile or ${USERNAME_ENV})`);
  }
  if (sources.caFile) credentials.ca = readFile(sources.caFile, 'CA certificate');
  if (sources.certFile) credentials.cert = readFile(sources.certFile, 'client certificate');
  if (sources.keyFile) credentials.key = new Secret(readFile(sources.keyFile, 'client key'));
  if ((credentials.cert === undefined) !== (credentials.key === undefined)) {
    throw new CredentialsError('mutual TLS needs both the client certificate and its key (mqtt.certFile and mqtt.keyFile)');
  }
  return credentials;
}
