import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../agent/commands/index.js';
import { readBrokerCredentials, Secret } from '../../agent/uplink/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { captureLogs, makeUplink, waitUntil, type TestUplink } from './helpers.js';

const USER = 'gw-test';
const PASSWORD = 'pa55-W0rd-that-must-never-be-logged';
const HMAC = 'hmac-key-that-must-never-be-logged';

/** A CA, a broker certificate for 127.0.0.1 and a client certificate, made with openssl for this test. */
function makeCertificates(): { dir: string; ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=vigil-test-ca');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  run('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/CN=${USER}`);
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return { dir, ca: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), clientCert: read('client.pem'), clientKey: read('client.key') };
}

describe('credentials and TLS', () => {
  let broker: TestBroker | undefined;
  let t: TestUplink | undefined;

  afterEach(async () => {
    await t?.uplink.stop(200);
    t = undefined;
    await broker?.close();
    broker = undefined;
  });

  it('user name and password from files: a wrong password is refused and retried, the right one connects; neither secret nor HMAC key reaches the log', async () => {
    broker = await startBroker({ auth: { username: USER, password: PASSWORD } });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-auth-'));
    writeFileSync(join(dir, 'user'), `${USER}\n`);
    writeFileSync(join(dir, 'wrong'), 'not-the-password-either\n');
    writeFileSync(join(dir, 'pass'), `${PASSWORD}\n`);
    const logs = captureLogs();
    const wrong = readBrokerCredentials({ usernameFile: join(dir, 'user'), passwordFile: join(dir, 'wrong') });
    t = makeUplink(broker.url, broker, {
      logger: logs.logger,
      broker: { url: broker.url, protocolVersion: broker.protocolVersion, credentials: wrong },
      commands: { handler: new CommandHandler({} as never, {} as never), hmacKey: new Secret(HMAC) },
    });
    t.uplink.start();
    await waitUntil(() => (t?.trace.filter((e) => e.type === 'connect-failed').length ?? 0) >= 2, 'refused twice');
    expect(t.uplink.stats().state).not.toBe('online');
    await t.uplink.stop(200);

    const right = readBrokerCredentials({ usernameFile: join(dir, 'user'), passwordFile: join(dir, 'pass') });
    t = makeUplink(broker.url, broker, {
      logger: logs.logger,
      broker: { url: broker.url, protocolVersion: broker.protocolVersion, credentials: right },
      commands: { handler: new CommandHandler({} as never, {} as never), hmacKey: new Secret(HMAC) },
    });
    t.uplink.start();
    await waitUntil(() => t?.trace.some((e) => e.type === 'connected') ?? false, 'online with the right password');
    logs.logger.info({ options: right, stats: t.uplink.stats() }, 'a careless log line');
    const text = logs.text();
    expect(text).toMatch(/broker connection failed/);
    expect(text).toMatch(/uplink online/);
    for (const secret of [PASSWORD, 'not-the-password-either', HMAC]) expect(text).not.toContain(secret);
  });

  it('mutual TLS: with the CA and a client certificate it connects; without the client certificate it is refused, and nothing crashes', async () => {
    const certs = makeCertificates();
    broker = await startBroker({ tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, requireClientCert: true } });
    writeFileSync(join(certs.dir, 'client-cert.pem'), certs.clientCert);
    writeFileSync(join(certs.dir, 'client-key.pem'), certs.clientKey);
    const logs = captureLogs();

    const noClientCert = readBrokerCredentials({ caFile: join(certs.dir, 'ca.pem'), env: {} });
    t = makeUplink(broker.url, broker, { logger: logs.logger, broker: { url: broker.url, protocolVersion: broker.protocolVersion, credentials: noClientCert } });
    t.uplink.start();
    await waitUntil(() => (t?.trace.filter((e) => e.type === 'connect-failed').length ?? 0) >= 1, 'refused without a client certificate');
    await t.uplink.stop(200);

    const full = readBrokerCredentials({
      caFile: join(certs.dir, 'ca.pem'),
      certFile: join(certs.dir, 'client-cert.pem'),
      keyFile: join(certs.dir, 'client-key.pem'),
      env: {},
    });
    t = makeUplink(broker.url, broker, { logger: logs.logger, broker: { url: broker.url, protocolVersion: broker.protocolVersion, credentials: full } });
    t.uplink.start();
    await waitUntil(() => t?.trace.some((e) => e.type === 'connected') ?? false, 'connected over mutual TLS (birth acknowledged)');
    const keyBody = certs.clientKey.split('\n')[1] ?? 'unreachable';
    expect(logs.text()).not.toContain(keyBody);
  });
});
