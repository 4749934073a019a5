import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import { freePort } from './ports.js';

/**
 * A real MQTT broker for the tests: an embedded Aedes (plain `npm test`) or a Mosquitto child process
 * (VIGIL_TEST_BROKER=mosquitto), each on a free loopback port, with the faults the uplink must survive:
 * stop and start on the same port, and stall (stop acknowledging).
 */

export type BrokerKind = 'aedes' | 'mosquitto';

export interface BrokerTls {
  ca: string;
  cert: string;
  key: string;
  /** Require a client certificate signed by the CA (mutual TLS). */
  requireClientCert: boolean;
}

export interface StartBrokerOptions {
  kind?: BrokerKind;
  /** Only this user/password may connect. */
  auth?: { username: string; password: string };
  tls?: BrokerTls;
  /** Mosquitto: max_inflight_messages (sent to MQTT 5 clients as receive maximum). */
  receiveMaximum?: number;
}

export interface TestBroker {
  readonly kind: BrokerKind;
  readonly host: string;
  readonly port: number;
  /** mqtt://127.0.0.1:port (mqtts:// with TLS). */
  readonly url: string;
  /** The newest MQTT version it speaks: Aedes 3.1.1 (4), Mosquitto 5. */
  readonly protocolVersion: 4 | 5;
  /** Closes the port and drops every connection (like a broker that died). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops acknowledging: Aedes holds every PUBACK; Mosquitto is frozen (SIGSTOP). */
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

export function brokerKindFromEnv(): BrokerKind {
  return process.env.VIGIL_TEST_BROKER === 'mosquitto' ? 'mosquitto' : 'aedes';
}

export { freePort };

export async function startBroker(options: StartBrokerOptions = {}): Promise<TestBroker> {
  const kind = options.kind ?? brokerKindFromEnv();
  return kind === 'mosquitto' ? startMosquitto(options) : startAedes(options);
}

async function startAedes(options: StartBrokerOptions): Promise<TestBroker> {
  const port = await freePort();
  let stalled = false;
  const held: Array<() => void> = [];
  const aedes = await Aedes.createBroker({
    ...(options.auth
      ? {
          authenticate: (_client, username, password, done) => {
            const ok = username === options.auth?.username && password?.toString('utf8') === options.auth?.password;
            if (ok) return done(null, true);
            const error = Object.assign(new Error('bad user name or password'), { returnCode: 4 });
            done(error as Parameters<typeof done>[0], false);
          },
        }
      : {}),
    authorizePublish: (_client, _packet, callback) => {
      if (stalled) held.push(() => callback(null));
      else callback(null);
    },
  });
  aedes.on('clientError', () => {});
  aedes.on('connectionError', () => {});
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const listen = async (): Promise<void> => {
    const handler = (socket: Socket): void => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      aedes.handle(socket);
    };
    server = options.tls
      ? createTlsServer(
          { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, requestCert: options.tls.requireClientCert, rejectUnauthorized: options.tls.requireClientCert },
          handler,
        )
      : createServer(handler);
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject);
      server?.listen(port, '127.0.0.1', () => resolve());
    });
  };
  const unlisten = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    kind: 'aedes',
    host: '127.0.0.1',
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    protocolVersion: 4,
    stop: unlisten,
    start: listen,
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      for (const release of held.splice(0)) release();
    },
    async close() {
      stalled = false;
      held.length = 0;
      await unlisten();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

function mosquittoPath(): string {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (spawnSync('test', ['-x', candidate]).status === 0) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim() !== '') return which.stdout.trim();
  throw new Error('VIGIL_TEST_BROKER=mosquitto but no mosquitto binary (apt-get install -y mosquitto)');
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`mosquitto did not listen on ${port}: ${output()}`);
}

async function startMosquitto(options: StartBrokerOptions): Promise<TestBroker> {
  const binary = mosquittoPath();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-'));
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning'];
  if (options.receiveMaximum !== undefined) lines.push(`max_inflight_messages ${options.receiveMaximum}`);
  if (options.auth) {
    const passwordFile = join(dir, 'passwd');
    writeFileSync(passwordFile, '');
    const made = spawnSync('mosquitto_passwd', ['-b', passwordFile, options.auth.username, options.auth.password], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
    lines.push('allow_anonymous false', `password_file ${passwordFile}`);
  } else {
    lines.push('allow_anonymous true');
  }
  if (options.tls) {
    for (const [name, content] of [['ca.pem', options.tls.ca], ['cert.pem', options.tls.cert], ['key.pem', options.tls.key]] as const) {
      writeFileSync(join(dir, name), content);
    }
    lines.push(`cafile ${join(dir, 'ca.pem')}`, `certfile ${join(dir, 'cert.pem')}`, `keyfile ${join(dir, 'key.pem')}`);
    if (options.tls.requireClientCert) lines.push('require_certificate true');
  }
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);
  // Started as root, mosquitto drops to its own user: it must be able to read its (throw-away) files.
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o644);

  let child: ChildProcess | undefined;
  let output = '';
  const launch = async (): Promise<void> => {
    output = '';
    const proc = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    await waitForPort(port, proc, () => output);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    kind: 'mosquitto',
    host: '127.0.0.1',
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    protocolVersion: 5,
    stop: kill,
    start: launch,
    stall: () => {
      child?.kill('SIGSTOP');
    },
    resume: () => {
      child?.kill('SIGCONT');
    },
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
