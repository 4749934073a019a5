import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import mqtt from 'mqtt';
import { isSerialBus, type Site } from '../../../config/schema/index.js';
import { formatErrors, loadSettings, loadSite, SettingsError, type Settings } from '../../../config/index.js';
import { readBrokerCredentials, type BrokerCredentials } from '../../uplink/index.js';
import { findExecutable } from '../executables.js';
import { currentUser, primaryGid, readGroups, tryRun, userInGroup, userName } from './system.js';
import type { CheckResult } from './types.js';

/** Where the checks look; the defaults are a gateway's. */
export interface DoctorEnvironment {
  env: NodeJS.ProcessEnv;
  /** The user the service runs as (systemd/vigil.service). */
  serviceUser: string;
  devDir: string;
  timesyncFlag: string;
  brokerTimeoutMs: number;
}

const ok = (id: string, title: string, detail: string): CheckResult => ({ id, title, status: 'ok', detail });
const warn = (id: string, title: string, detail: string, hint: string): CheckResult => ({ id, title, status: 'warn', detail, hint });
const fail = (id: string, title: string, detail: string, hint: string): CheckResult => ({ id, title, status: 'fail', detail, hint });
const skip = (id: string, title: string, detail: string): CheckResult => ({ id, title, status: 'skip', detail });

function canReadWrite(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export const isRoot = (): boolean => process.getuid?.() === 0;

// ————— Node.js —————

export function checkNode(version = process.versions.node): CheckResult {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const title = 'Node.js';
  if (major < 20) return fail('node', title, `v${version}: too old`, 'install Node.js 22 or 24 (20 is the oldest that runs Vigil)');
  // Below 20.15 zlib has no crc32: the outbox checks its records in JavaScript, which the service's lite mode
  // runs interpreted (about 15 MB/s), so opening a full store delays the start of local safety control.
  if (major === 20 && minor < 15)
    return warn('node', title, `v${version}: runs, but without native CRC-32 the outbox opens slowly under the service's lite mode`, 'upgrade to Node.js 22 or 24 (at least 20.15), then re-run systemd/install.sh');
  if (major === 20) return warn('node', title, `v${version}: runs, but Node 20 reached end of life in April 2026`, 'upgrade to Node.js 22 or 24, then re-run systemd/install.sh');
  return ok('node', title, `v${version}`);
}

// ————— settings and site —————

export function checkSettings(env: NodeJS.ProcessEnv, file: string | undefined): { result: CheckResult; settings: Settings } {
  const title = 'Settings';
  try {
    const settings = loadSettings({ env, ...(file ? { file } : {}) });
    const source = file ? `file ${file} + VIGIL_* variables` : 'VIGIL_* variables and defaults';
    return { result: ok('settings', title, `valid (${source})`), settings };
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    const detail = error.problems.map((p) => `${p.key || 'settings file'}${p.env ? ` (${p.env})` : ''}: ${p.message}`).join('\n');
    const result = fail('settings', title, detail, 'fix the VIGIL_* lines in /etc/vigil/vigil.env (every setting: docs/configuration.md); the checks below use defaults');
    return { result, settings: loadSettings({ env: {} }) };
  }
}

export function checkSite(file: string): { result: CheckResult; site: Site | undefined } {
  const title = 'Site config';
  if (!existsSync(file)) {
    return { result: fail('config', title, `${file} does not exist`, `start from /opt/vigil/config/examples/septic-tank.yaml: copy it to ${file} and edit it`), site: undefined };
  }
  const loaded = loadSite(file);
  if (!loaded.ok) {
    const shown = formatErrors(loaded.errors.slice(0, 5), { color: false });
    const more = loaded.errors.length > 5 ? `\n… and ${loaded.errors.length - 5} more` : '';
    return { result: fail('config', title, `${file}: ${loaded.errors.length} error(s)\n${shown}${more}`, `vigil check ${file} shows every error with line:column and a hint`), site: undefined };
  }
  const { site } = loaded;
  return { result: ok('config', title, `${file}: valid — site "${site.site.id}", ${site.buses.length} bus(es), ${site.devices.length} device(s), ${site.outputs.length} output(s)`), site };
}

// ————— serial ports —————

/** USB and on-board serial ports present, stable names first. */
function presentSerialPorts(devDir: string): string[] {
  const byId = join(devDir, 'serial', 'by-id');
  const stable = existsSync(byId) ? readdirSync(byId).map((name) => join(byId, name)) : [];
  const raw = existsSync(devDir) ? readdirSync(devDir).filter((name) => /^tty(USB|ACM)\d+$/.test(name)).map((name) => join(devDir, name)) : [];
  return [...stable, ...raw];
}

/** Access of this user, and whether the service user's groups reach the device. */
function deviceAccess(path: string, env: DoctorEnvironment): { problem?: string; hint?: string } {
  const user = currentUser();
  const groups = readGroups();
  const stat = statSync(path);
  const group = groups.find((g) => g.gid === stat.gid)?.name ?? String(stat.gid);
  if (!canReadWrite(path)) {
    return { problem: `${user} cannot open it (owner group ${group})`, hint: `sudo usermod -aG ${group} ${user}, then log in again (the service itself runs as ${env.serviceUser})` };
  }
  const serviceExists = primaryGid(env.serviceUser) !== undefined;
  if (serviceExists && (stat.mode & 0o060) !== 0o060) {
    return { problem: `not read/writable by its group ${group} (mode ${(stat.mode & 0o777).toString(8)})`, hint: 'a udev rule should set MODE="0660" (systemd/99-vigil-rs485.rules)' };
  }
  if (serviceExists && !userInGroup(env.serviceUser, stat.gid, groups)) {
    return { problem: `the service user ${env.serviceUser} is not in its group ${group}`, hint: `sudo usermod -aG ${group} ${env.serviceUser} && sudo systemctl restart vigil` };
  }
  return {};
}

export function checkSerial(site: Site | undefined, env: DoctorEnvironment): CheckResult {
  const title = 'Serial ports';
  const present = presentSerialPorts(env.devDir);
  const listing = present.length > 0 ? `present: ${present.join(', ')}` : 'no USB serial adapter present';
  if (!site) {
    if (present.length === 0) return warn('serial', title, listing, 'plug in the RS-485 adapter; `dmesg | tail` should then name /dev/ttyUSB0');
    return ok('serial', title, listing);
  }
  const lines = site.buses.filter(isSerialBus);
  if (lines.length === 0) return ok('serial', title, `the site uses no serial line (Modbus RTU over TCP); ${listing}`);
  const problems: string[] = [];
  const found: string[] = [];
  let hint = '';
  for (const bus of lines) {
    const path = bus.serial.path;
    if (!existsSync(path)) {
      problems.push(`bus ${bus.id}: ${path} does not exist`);
      hint ||= present.length > 0
        ? `plug the adapter in, or set buses[${bus.id}].serial.path to one present (${present[0]}); prefer /dev/serial/by-id names`
        : 'plug the RS-485 adapter in; `dmesg | tail` should then name it';
      continue;
    }
    const real = realpathSync(path);
    if (!statSync(real).isCharacterDevice()) {
      problems.push(`bus ${bus.id}: ${path} is not a serial device`);
      hint ||= 'serial.path must name a serial port such as /dev/ttyUSB0';
      continue;
    }
    const access = deviceAccess(real, env);
    if (access.problem) {
      problems.push(`bus ${bus.id}: ${path}${real === path ? '' : ` (${real})`}: ${access.problem}`);
      hint ||= access.hint ?? '';
      continue;
    }
    found.push(`${bus.id} → ${path}${real === path ? '' : ` (${real})`}`);
  }
  if (problems.length > 0) return fail('serial', title, [...problems, ...found.map((f) => `${f}: ok`), listing].join('\n'), hint);
  return ok('serial', title, found.join(', '));
}

// ————— GPIO —————

function siteUsesGpio(site: Site): boolean {
  return (site.gpio?.inputs.length ?? 0) > 0 || site.outputs.some((output) => output.gpio !== undefined);
}

export function checkGpio(site: Site | undefined, env: DoctorEnvironment): CheckResult {
  const title = 'GPIO chips';
  const chips = existsSync(env.devDir) ? readdirSync(env.devDir).filter((name) => /^gpiochip\d+$/.test(name)).sort() : [];
  const needed = site ? siteUsesGpio(site) : false;
  if (chips.length === 0) {
    if (needed) return fail('gpio', title, `the site uses GPIO but there is no ${join(env.devDir, 'gpiochip*')}`, 'GPIO needs a Raspberry Pi (or a board with GPIO); on a Pi check `ls /dev/gpiochip*` and the kernel');
    return skip('gpio', title, 'no GPIO chip on this machine; the site does not use GPIO');
  }
  if (!needed) return ok('gpio', title, `${chips.join(', ')} present; the site does not use GPIO`);
  const problems: string[] = [];
  let hint = '';
  for (const chip of chips) {
    const access = deviceAccess(join(env.devDir, chip), env);
    if (access.problem) {
      problems.push(`${chip}: ${access.problem}`);
      hint ||= access.hint ?? '';
    }
  }
  if (problems.length > 0) return fail('gpio', title, problems.join('\n'), hint);
  return ok('gpio', title, `${chips.join(', ')}: read/write`);
}

// ————— clock —————

export async function checkClock(env: DoctorEnvironment): Promise<CheckResult> {
  const title = 'Clock sync';
  const hint = 'readings are marked "clock not synchronised" until NTP sets the clock: check the network and `timedatectl timesync-status`';
  // timedated answers for timesyncd and chrony alike; without it (no systemd), timesyncd's flag file.
  const answer = findExecutable('timedatectl') ? await tryRun('timedatectl', ['show', '--property=NTPSynchronized', '--value']) : undefined;
  const synced = answer !== undefined ? answer.trim() === 'yes' : existsSync(env.timesyncFlag);
  const how = answer !== undefined ? 'timedatectl' : env.timesyncFlag;
  const now = new Date().toISOString();
  if (synced) return ok('clock', title, `synchronised (${how}); now ${now}`);
  return warn('clock', title, `not synchronised (${how}); this machine says ${now}`, hint);
}

// ————— disk and data folder —————

function nearestExisting(path: string): string {
  let current = path;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

const mib = (bytes: number): string =>
  bytes >= 10 * 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / (1024 * 1024))} MiB`;

export function checkDisk(settings: Settings): CheckResult {
  const title = 'Disk space';
  const where = nearestExisting(settings.dataDir);
  const stats = statfsSync(where);
  const free = stats.bavail * stats.bsize;
  const total = stats.blocks * stats.bsize;
  const detail = `${mib(free)} free of ${mib(total)} at ${where}; the outbox may use up to ${mib(settings.outbox.maxBytes)}`;
  const hint = 'free space (old logs, apt clean) or lower VIGIL_OUTBOX_MAX_BYTES in /etc/vigil/vigil.env';
  if (free < 32 * 1024 * 1024) return fail('disk', title, detail, hint);
  if (free < settings.outbox.maxBytes) return warn('disk', title, detail, hint);
  return ok('disk', title, detail);
}

export function checkDataDir(settings: Settings, env: DoctorEnvironment): CheckResult {
  const title = 'Data folder';
  const dir = settings.dataDir;
  if (!existsSync(dir)) {
    return warn('data-dir', title, `${dir} does not exist yet`, 'systemd creates it when the service first starts (StateDirectory); by hand: sudo install -d -o vigil -g vigil -m 0750 ' + dir);
  }
  const stat = statSync(dir);
  if (!stat.isDirectory()) return fail('data-dir', title, `${dir} is not a folder`, `move it away; the agent keeps its outbox and state in the folder ${dir}`);
  if (canReadWrite(dir)) return ok('data-dir', title, `${dir}: writable by ${currentUser()}`);
  const owner = userName(stat.uid);
  if (owner === env.serviceUser) return ok('data-dir', title, `${dir}: owned by the service user ${env.serviceUser} (not writable by ${currentUser()}, as intended)`);
  return fail('data-dir', title, `${dir}: not writable by ${currentUser()} and owned by ${owner ?? stat.uid}`, `sudo chown -R ${env.serviceUser}:${env.serviceUser} ${dir}`);
}

// ————— broker —————

/** Where the broker's settings live, for the hints: the VIGIL_MQTT_* settings, or a platform of the site file. */
export interface BrokerSource {
  url: string;
  credentials: string;
  ca: string;
}

const SETTINGS_SOURCE: BrokerSource = {
  url: 'VIGIL_MQTT_URL',
  credentials: 'VIGIL_MQTT_USERNAME_FILE / VIGIL_MQTT_PASSWORD_FILE (or the client certificate)',
  ca: 'VIGIL_MQTT_CA_FILE',
};

export function brokerHostPort(url: URL): { host: string; port: number } {
  const defaults: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };
  return { host: url.hostname, port: url.port ? Number(url.port) : (defaults[url.protocol] ?? 1883) };
}

export const isSecureUrl = (url: URL): boolean => url.protocol === 'mqtts:' || url.protocol === 'wss:' || url.protocol === 'ssl:';

export function describeBrokerError(error: unknown, url: URL, timeoutMs: number, source: BrokerSource = SETTINGS_SOURCE): { detail: string; hint: string } {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const { host, port } = brokerHostPort(url);
  const where = `${host}:${port}`;
  if (code === 'ECONNREFUSED') return { detail: `${where}: connection refused (nothing listens there)`, hint: `check the host and port in ${source.url}, and that the broker runs` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { detail: `${url.hostname}: name not found`, hint: `check the host name in ${source.url} and the DNS of this network (resolvectl status)` };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { detail: `${where}: no route`, hint: 'the network is down or has no route there: check the cable, the cellular modem, `ip route`' };
  if (code === 'TIMEOUT') return { detail: `${where}: no answer within ${Math.round(timeoutMs / 1000)} s`, hint: 'a firewall or the APN drops the traffic, or the port is wrong; try from another machine on the same network' };
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME/.test(code)) {
    const expired = code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID';
    return {
      detail: `${where}: TLS certificate not accepted (${code})`,
      hint: expired ? 'the clock may be wrong (see Clock sync), or the certificate really expired' : `set ${source.ca} to the PEM of the CA that signed the broker's certificate`,
    };
  }
  if (code === 5 || code === 4 || code === 134 || code === 135 || /not authori[sz]ed|bad user name or password/i.test(message)) {
    return { detail: `${where}: the broker refused the credentials (${message})`, hint: `check ${source.credentials} with the platform operator` };
  }
  return { detail: `${where}: ${message}${typeof code === 'string' || typeof code === 'number' ? ` (${code})` : ''}`, hint: `check ${source.url} and the network` };
}

export type ProbeOutcome = { ok: true; ms: number } | { ok: false; error: unknown };

/**
 * An MQTT CONNECT with these credentials, then a disconnect. A client id of its own: the gateway's would push
 * the running agent off the broker (and fire its will).
 */
export async function mqttLogin(url: string, protocol: '5' | '3.1.1', credentials: BrokerCredentials, timeoutMs: number): Promise<ProbeOutcome> {
  const client = mqtt.connect(url, {
    clientId: `vigil-doctor-${process.pid}-${Date.now().toString(36)}`,
    protocolVersion: protocol === '3.1.1' ? 4 : 5,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    ...(credentials.username === undefined ? {} : { username: credentials.username }),
    ...(credentials.password === undefined ? {} : { password: credentials.password.reveal() }),
    ...(credentials.ca === undefined ? {} : { ca: credentials.ca }),
    ...(credentials.cert === undefined ? {} : { cert: credentials.cert }),
    ...(credentials.key === undefined ? {} : { key: credentials.key.reveal() }),
  });
  const started = Date.now();
  const outcome = await new Promise<ProbeOutcome>((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, error: Object.assign(new Error('timeout'), { code: 'TIMEOUT' }) }), timeoutMs);
    const done = (result: ProbeOutcome): void => {
      clearTimeout(timer);
      resolve(result);
    };
    client.once('connect', () => done({ ok: true, ms: Date.now() - started }));
    client.once('error', (error) => done({ ok: false, error }));
    client.once('close', () => done({ ok: false, error: Object.assign(new Error('connection closed by the broker'), { code: 'CLOSED' }) }));
  });
  client.end(true);
  return outcome;
}

export async function checkBroker(settings: Settings, env: DoctorEnvironment): Promise<CheckResult> {
  const title = 'Broker';
  const mqttSettings = settings.mqtt;
  if (!mqttSettings.url) {
    return warn('broker', title, 'no broker configured: readings and events are kept in the outbox, not sent', 'set VIGIL_MQTT_URL=mqtts://host:8883 in /etc/vigil/vigil.env (or list platforms in the site file), then sudo systemctl restart vigil');
  }
  const url = new URL(mqttSettings.url);
  let credentials;
  try {
    credentials = readBrokerCredentials({
      env: env.env,
      ...(mqttSettings.usernameFile ? { usernameFile: mqttSettings.usernameFile } : {}),
      ...(mqttSettings.passwordFile ? { passwordFile: mqttSettings.passwordFile } : {}),
      ...(mqttSettings.caFile ? { caFile: mqttSettings.caFile } : {}),
      ...(mqttSettings.certFile ? { certFile: mqttSettings.certFile } : {}),
      ...(mqttSettings.keyFile ? { keyFile: mqttSettings.keyFile } : {}),
    });
  } catch (error) {
    const detail = `credentials: ${error instanceof Error ? error.message : String(error)}`;
    if (!isRoot()) return warn('broker', title, detail, `the credential files are readable by ${env.serviceUser} only: run sudo vigil doctor`);
    return fail('broker', title, detail, 'check the VIGIL_MQTT_*_FILE paths in /etc/vigil/vigil.env');
  }
  const outcome = await mqttLogin(mqttSettings.url, mqttSettings.protocol, credentials, env.brokerTimeoutMs);
  if (outcome.ok) {
    return ok('broker', title, `${mqttSettings.url}: MQTT connection accepted in ${outcome.ms} ms${isSecureUrl(url) ? ' (TLS verified)' : ''}${credentials.username ? ` as ${credentials.username}` : ''}`);
  }
  const { detail, hint } = describeBrokerError(outcome.error, url, env.brokerTimeoutMs);
  return fail('broker', title, detail, hint);
}

// ————— the service —————

export async function checkService(): Promise<CheckResult> {
  const title = 'Service';
  if (!findExecutable('systemctl') || !existsSync('/run/systemd/system')) return skip('service', title, 'systemd is not running on this machine');
  const output = await tryRun('systemctl', ['show', 'vigil.service', '--property=LoadState,ActiveState,SubState,UnitFileState,NRestarts,Result']);
  if (output === undefined) return warn('service', title, 'systemctl did not answer', 'systemctl status vigil');
  const props = new Map(output.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  if (props.get('LoadState') === 'not-found') return warn('service', title, 'vigil.service is not installed', 'sudo systemd/install.sh (from the built checkout)');
  const restarts = Number(props.get('NRestarts') ?? 0);
  const detail = `vigil.service ${props.get('ActiveState')} (${props.get('SubState')}), ${props.get('UnitFileState')}, restarted ${restarts} time(s), last result ${props.get('Result')}`;
  if (props.get('ActiveState') === 'failed') return fail('service', title, detail, 'journalctl -u vigil -n 50 --no-pager shows why; then sudo systemctl restart vigil');
  if (props.get('ActiveState') !== 'active') return warn('service', title, detail, 'sudo systemctl start vigil (and enable it: sudo systemctl enable vigil)');
  if (props.get('UnitFileState') !== 'enabled') return warn('service', title, detail, 'sudo systemctl enable vigil, so it starts at boot');
  if (restarts > 0) return warn('service', title, detail, 'it has been restarted (crash or watchdog): journalctl -u vigil -b shows why');
  return ok('service', title, detail);
}
