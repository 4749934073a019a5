import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsError, describeSettings, loadSettings } from '../../config/index.js';
import { tempDir } from './helpers.js';

function problemsOf(load: () => unknown): SettingsError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error('expected a SettingsError');
}

describe('settings', () => {
  const dirs: { remove(): void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('defaults, with an empty environment', () => {
    expect(loadSettings({ env: {} })).toEqual({
      gatewayId: null,
      dataDir: '/var/lib/vigil',
      outbox: { maxBytes: 256 * 1024 * 1024, flushIntervalMs: 1000 },
      logLevel: 'info',
      siteFile: '/etc/vigil/site.yaml',
      mqtt: {
        url: null,
        protocol: '5',
        topicPrefix: 'vigil',
        hmacKeyFile: null,
        requireSignature: 'guarded',
        usernameFile: null,
        passwordFile: null,
        caFile: null,
        certFile: null,
        keyFile: null,
      },
      api: { socket: null, tcpPort: null },
      opcua: {
        enabled: false,
        port: 4840,
        usersFile: null,
        allowAnonymous: false,
        allowUnsecured: false,
        trustUnknownClients: false,
        historyMaxBytes: 67_108_864,
        historyMaxAgeHours: 168,
      },
    });
  });

  it('environment variables override defaults; an empty variable counts as unset', () => {
    const settings = loadSettings({
      env: {
        VIGIL_GATEWAY_ID: 'gw-42',
        VIGIL_DATA_DIR: '/data/vigil',
        VIGIL_LOG_LEVEL: 'debug',
        VIGIL_SITE: '/opt/site.yaml',
        VIGIL_MQTT_URL: 'mqtts://broker.example.org:8883',
        VIGIL_MQTT_PASSWORD_FILE: '/run/credentials/vigil/mqtt-password',
        VIGIL_MQTT_CA_FILE: '',
      },
    });
    expect(settings).toMatchObject({
      gatewayId: 'gw-42',
      dataDir: '/data/vigil',
      logLevel: 'debug',
      siteFile: '/opt/site.yaml',
      mqtt: { url: 'mqtts://broker.example.org:8883', passwordFile: '/run/credentials/vigil/mqtt-password', caFile: null },
    });
  });

  it('precedence: file < env < args', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir.path, 'settings.yaml');
    writeFileSync(file, 'logLevel: warn\ndataDir: /from/file\nmqtt:\n  url: mqtt://file-broker:1883\n  usernameFile: /from/file/user\n');
    const settings = loadSettings({
      file,
      env: { VIGIL_LOG_LEVEL: 'error', VIGIL_MQTT_URL: 'mqtt://env-broker:1883' },
      args: { logLevel: 'trace', 'mqtt.caFile': '/from/args/ca.pem', siteFile: undefined },
    });
    expect(settings).toMatchObject({
      logLevel: 'trace',
      dataDir: '/from/file',
      siteFile: '/etc/vigil/site.yaml',
      mqtt: { url: 'mqtt://env-broker:1883', usernameFile: '/from/file/user', caFile: '/from/args/ca.pem' },
    });
  });

  it('a JSON settings file works too', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir.path, 'settings.json');
    writeFileSync(file, JSON.stringify({ gatewayId: 'from-json', mqtt: { url: 'wss://broker/mqtt' } }));
    expect(loadSettings({ file, env: {} })).toMatchObject({ gatewayId: 'from-json', mqtt: { url: 'wss://broker/mqtt' } });
  });

  it('every invalid value is reported at once, naming the key and the environment variable', () => {
    const error = problemsOf(() =>
      loadSettings({
        env: { VIGIL_LOG_LEVEL: 'warning', VIGIL_MQTT_URL: 'http://broker', VIGIL_GATEWAY_ID: '42 gateways' },
      }),
    );
    expect(error.problems.map((p) => [p.key, p.env, p.source])).toEqual([
      ['gatewayId', 'VIGIL_GATEWAY_ID', 'env'],
      ['logLevel', 'VIGIL_LOG_LEVEL', 'env'],
      ['mqtt.url', 'VIGIL_MQTT_URL', 'env'],
    ]);
    expect(error.problems[1]!.hint).toBe('did you mean "warn"?');
    expect(error.message).toContain('logLevel (from VIGIL_LOG_LEVEL): must be one of fatal, error, warn, info, debug, trace, got "warning"');
    expect(error.message).toContain('mqtt.url (from VIGIL_MQTT_URL)');
  });

  it('credentials in the broker URL are refused: they belong in files', () => {
    const error = problemsOf(() => loadSettings({ env: { VIGIL_MQTT_URL: 'mqtt://user:secret@broker:1883' } }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.message).toMatch(/must not contain credentials/);
  });

  it('unknown keys in the file and in args get "did you mean"', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir.path, 'settings.yaml');
    writeFileSync(file, 'loglevel: info\nmqtt:\n  passwordfile: /x\n');
    const error = problemsOf(() => loadSettings({ file, env: {}, args: { dataDri: '/x' } }));
    expect(error.problems.map((p) => [p.key, p.source, p.hint])).toEqual([
      ['loglevel', 'file', 'did you mean "logLevel" (env VIGIL_LOG_LEVEL)?'],
      ['mqtt.passwordfile', 'file', 'did you mean "mqtt.passwordFile" (env VIGIL_MQTT_PASSWORD_FILE)?'],
      ['dataDri', 'args', 'did you mean "dataDir" (env VIGIL_DATA_DIR)?'],
    ]);
  });

  it('a client certificate without its key is refused', () => {
    const error = problemsOf(() => loadSettings({ env: { VIGIL_MQTT_CERT_FILE: '/etc/vigil/client.pem' } }));
    expect(error.problems.map((p) => [p.key, p.env])).toEqual([['mqtt.keyFile', 'VIGIL_MQTT_KEY_FILE']]);
  });

  it('an unreadable or malformed settings file is a problem, not a crash', () => {
    const dir = tempDir();
    dirs.push(dir);
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'logLevel: [unclosed\n');
    expect(problemsOf(() => loadSettings({ file: bad, env: {} })).problems[0]!.message).toMatch(/is not valid YAML\/JSON/);
    expect(problemsOf(() => loadSettings({ file: join(dir.path, 'none.yaml'), env: {} })).problems[0]!.message).toMatch(/^cannot read/);
  });

  it('describes every setting with its environment variable for the docs', () => {
    const described = describeSettings();
    expect(described.map((s) => s.key)).toEqual([
      'gatewayId',
      'dataDir',
      'outbox.maxBytes',
      'outbox.flushIntervalMs',
      'logLevel',
      'siteFile',
      'mqtt.url',
      'mqtt.protocol',
      'mqtt.topicPrefix',
      'mqtt.hmacKeyFile',
      'mqtt.requireSignature',
      'mqtt.usernameFile',
      'mqtt.passwordFile',
      'mqtt.caFile',
      'mqtt.certFile',
      'mqtt.keyFile',
      'api.socket',
      'api.tcpPort',
      'opcua.enabled',
      'opcua.port',
      'opcua.usersFile',
      'opcua.allowAnonymous',
      'opcua.allowUnsecured',
      'opcua.trustUnknownClients',
      'opcua.historyMaxBytes',
      'opcua.historyMaxAgeHours',
    ]);
    expect(described.every((s) => s.env?.startsWith('VIGIL_') && s.doc.length > 0)).toBe(true);
  });

  it('outbox sizes from the environment become numbers; wrong protocol or size is named by its variable', () => {
    expect(loadSettings({ env: { VIGIL_OUTBOX_MAX_BYTES: '2000000' } }).outbox.maxBytes).toBe(2_000_000);
    expect(() => loadSettings({ env: { VIGIL_MQTT_PROTOCOL: '4', VIGIL_OUTBOX_MAX_BYTES: '10' } })).toThrow(
      /mqtt\.protocol \(from VIGIL_MQTT_PROTOCOL\)[\s\S]*outbox\.maxBytes \(from VIGIL_OUTBOX_MAX_BYTES\)|outbox\.maxBytes \(from VIGIL_OUTBOX_MAX_BYTES\)[\s\S]*mqtt\.protocol \(from VIGIL_MQTT_PROTOCOL\)/,
    );
  });

  it('the local API socket and loopback port: a port from the environment becomes a number, a bad one is named', () => {
    expect(loadSettings({ env: { VIGIL_API_SOCKET: '/run/vigil/api.sock', VIGIL_API_TCP_PORT: '7070' } }).api).toEqual({ socket: '/run/vigil/api.sock', tcpPort: 7070 });
    expect(() => loadSettings({ env: { VIGIL_API_TCP_PORT: '70000' } })).toThrow(/api\.tcpPort \(from VIGIL_API_TCP_PORT\): must be a TCP port/);
    expect(() => loadSettings({ env: { VIGIL_API_SOCKET: `/tmp/${'x'.repeat(120)}` } })).toThrow(/api\.socket .*at most 90 bytes/);
  });
});
