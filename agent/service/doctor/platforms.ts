import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Platform } from '../../../config/schema/index.js';
import type { BrokerCredentials } from '../../uplink/index.js';
import { DERIVED_LOGIN, readPlatformCredentials } from '../../uplink/profiles/index.js';
import { brokerHostPort, describeBrokerError, isRoot, isSecureUrl, mqttLogin, type BrokerSource, type DoctorEnvironment, type ProbeOutcome } from './checks.js';
import type { CheckResult } from './types.js';

/**
 * One check per platform of the site file (id `broker:<platform id>`), each against its own broker with its
 * own credential files, as the agent would connect: an MQTT CONNECT where the login is the user name and
 * password from the files (native, sparkplug, thingsboard); TCP (and TLS, with its CA and client certificate)
 * reachability only where the protocol derives its login from a key (geohazard, iotda), which says so.
 */
export async function checkPlatformBrokers(platforms: readonly Platform[], env: DoctorEnvironment): Promise<CheckResult[]> {
  return Promise.all(
    platforms.map((platform, index) =>
      checkPlatform(platform, index, env).catch(
        (error: unknown): CheckResult => ({
          id: `broker:${platform.id}`,
          title: `Broker of platform ${platform.id} (${platform.profile})`,
          status: 'fail',
          detail: `the check itself failed: ${error instanceof Error ? error.message : String(error)}`,
          hint: 'run it again; if it persists, report it with this output',
        }),
      ),
    ),
  );
}

async function checkPlatform(platform: Platform, index: number, env: DoctorEnvironment): Promise<CheckResult> {
  const id = `broker:${platform.id}`;
  const title = `Broker of platform ${platform.id} (${platform.profile})`;
  const entry = `platforms[${index}] (${platform.id}) in the site file`;
  const source: BrokerSource = {
    url: `broker.url of ${entry}`,
    credentials: `broker.usernameFile / passwordFile (or certFile / keyFile) of ${entry}`,
    ca: `broker.caFile of ${entry}`,
  };
  const broker = platform.broker;
  const url = new URL(broker.url);
  const derived = DERIVED_LOGIN.has(platform.profile);
  let credentials: BrokerCredentials;
  try {
    // As the agent reads them.
    credentials = readPlatformCredentials(platform);
  } catch (error) {
    const detail = `credentials: ${error instanceof Error ? error.message : String(error)}`;
    if (!isRoot()) return { id, title, status: 'warn', detail, hint: `the credential files are readable by ${env.serviceUser} only: run sudo vigil doctor` };
    return { id, title, status: 'fail', detail, hint: `check the broker.*File paths of ${entry}` };
  }

  const secure = isSecureUrl(url);
  if (derived) {
    const outcome = await reach(url, credentials, env.brokerTimeoutMs);
    if (outcome.ok) {
      return {
        id,
        title,
        status: 'ok',
        detail: `${broker.url}: ${secure ? 'TLS handshake verified' : 'TCP connection accepted'} in ${outcome.ms} ms; reachability only, the login is not tried (${platform.profile} derives it from the device id and key at connect)`,
      };
    }
    const { detail, hint } = describeBrokerError(outcome.error, url, env.brokerTimeoutMs, source);
    return { id, title, status: 'fail', detail: `${detail} (reachability check; ${platform.profile} derives its login)`, hint };
  }
  const outcome = await mqttLogin(broker.url, broker.protocol, credentials, env.brokerTimeoutMs);
  if (outcome.ok) {
    return {
      id,
      title,
      status: 'ok',
      detail: `${broker.url}: MQTT connection accepted in ${outcome.ms} ms${secure ? ' (TLS verified)' : ''}${credentials.username ? ` as ${credentials.username}` : ''}`,
    };
  }
  const { detail, hint } = describeBrokerError(outcome.error, url, env.brokerTimeoutMs, source);
  return { id, title, status: 'fail', detail, hint };
}

/** A TCP connection to the broker's port, and the TLS handshake (verified, with the platform's CA and client certificate) for mqtts/wss. */
function reach(url: URL, credentials: BrokerCredentials, timeoutMs: number): Promise<ProbeOutcome> {
  const { host, port } = brokerHostPort(url);
  const started = Date.now();
  return new Promise((resolve) => {
    let socket: Socket;
    const done = (outcome: ProbeOutcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, error: Object.assign(new Error('timeout'), { code: 'TIMEOUT' }) }), timeoutMs);
    if (isSecureUrl(url)) {
      socket = connectTls({
        host,
        port,
        ...(isIP(host) ? {} : { servername: host }),
        ...(credentials.ca === undefined ? {} : { ca: credentials.ca }),
        ...(credentials.cert === undefined ? {} : { cert: credentials.cert }),
        ...(credentials.key === undefined ? {} : { key: credentials.key.reveal() }),
      });
      socket.once('secureConnect', () => done({ ok: true, ms: Date.now() - started }));
    } else {
      socket = connectTcp({ host, port });
      socket.once('connect', () => done({ ok: true, ms: Date.now() - started }));
    }
    socket.once('error', (error) => done({ ok: false, error }));
  });
}
