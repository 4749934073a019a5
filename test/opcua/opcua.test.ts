import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  DataType,
  LocalizedText,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
  makeBrowsePath,
  type ClientSession,
} from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/index.js';
import { site as siteSchema, type SiteInput } from '../../config/schema/index.js';
import { startTcpSimulator, type RunningSimulator } from '../../drivers/simulator/index.js';
import { createLogger, silentLogger } from '../../agent/log/index.js';
import { startAgent, type RunningAgent } from '../../agent/main/index.js';
import { hashPassword } from '../../agent/opcua/index.js';
import { freePort } from '../support/ports.js';
import { shippedProfiles } from '../support/profiles.js';
import { ch4Alarm, ch4Channel, fanOutput, gasProbeDevice, relayBoardDevice, simulatedGasProbe, simulatedRelayBoard, tcpBusFor } from '../support/sites.js';
import { until } from '../support/until.js';

// An agent over the device simulator (real Modbus RTU over TCP) with OPC UA on, and real OPC UA clients
// (node-opcua's OPCUAClient) over Basic256Sha256 / SignAndEncrypt.

const profiles = shippedProfiles();
const PASSWORDS = { op: 'operator-secret', viewer: 'viewer-secret' };

function siteFor(sim: RunningSimulator): SiteInput {
  return {
    site: { id: 'tank', name: 'Septic tank 1', kind: 'septic-tank' },
    buses: [tcpBusFor(sim, { retries: 0 })],
    devices: [
      gasProbeDevice({ priority: 'critical', breaker: { failures: 100 }, channels: [ch4Channel({ alarm: ch4Alarm(1) })] }),
      { id: 'silent', bus: 'b', unit: 2, profile: 'gas-module-10reg', interval: '200ms', breaker: { failures: 100 }, channels: [{ id: 'silent.gas', register: 'concentration' }] },
      { id: 'gauge', bus: 'b', unit: 5, profile: 'crack-drawwire-s16', interval: '200ms', channels: [{ id: 'rock.crack', register: 'displacement', crack: { cumulative: { blue: 5, red: 40 } } }] },
      relayBoardDevice(),
    ],
    outputs: [fanOutput()],
  };
}

let dataDir: string;
let clientPki: string;
let sim: RunningSimulator;
let agent: RunningAgent;
let endpointUrl: string;
const sessions: Array<{ client: OPCUAClient; session?: ClientSession }> = [];

function clientFor(mode: MessageSecurityMode, policy: SecurityPolicy): OPCUAClient {
  const client = OPCUAClient.create({
    applicationName: 'vigil-test-client',
    securityMode: mode,
    securityPolicy: policy,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100 },
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: clientPki, automaticallyAcceptUnknownCertificate: true }),
  });
  sessions.push({ client });
  return client;
}

async function signIn(user: 'op' | 'viewer'): Promise<ClientSession> {
  const client = clientFor(MessageSecurityMode.SignAndEncrypt, SecurityPolicy.Basic256Sha256);
  await client.connect(endpointUrl);
  const session = await client.createSession({ type: UserTokenType.UserName, userName: user, password: PASSWORDS[user] });
  sessions.push({ client, session });
  return session;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-opcua-'));
  clientPki = mkdtempSync(join(tmpdir(), 'vigil-opcua-client-'));
  const usersFile = join(dataDir, 'users');
  writeFileSync(
    usersFile,
    `# test users\nop:operator:${await hashPassword(PASSWORDS.op)}\nviewer:viewer:${await hashPassword(PASSWORDS.viewer)}\n`,
  );
  sim = await startTcpSimulator({
    devices: [
      simulatedGasProbe(profiles, { constant: 5 }),
      { unit: 2, profile: profiles.get('gas-module-10reg')!, fault: { kind: 'silent' } },
      { unit: 5, profile: profiles.get('crack-drawwire-s16')!, values: { displacement: { constant: 1.5 } } },
      simulatedRelayBoard(profiles),
    ],
  });
  const port = await freePort();
  const settings = loadSettings({
    env: {},
    args: { dataDir, 'opcua.enabled': true, 'opcua.port': port, 'opcua.usersFile': usersFile, 'opcua.trustUnknownClients': true },
  });
  agent = await startAgent({ site: siteSchema.parse(siteFor(sim)), profiles, logger: process.env.VIGIL_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(), dataDir, settings });
  const server = await agent.opcua!.ready;
  if (!server) throw new Error('OPC UA server did not start');
  endpointUrl = `opc.tcp://127.0.0.1:${port}`;
}, 120_000);

afterAll(async () => {
  for (const { client, session } of sessions.reverse()) {
    await session?.close().catch(() => undefined);
    await client.disconnect().catch(() => undefined);
  }
  await agent?.stop();
  await sim?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(clientPki, { recursive: true, force: true });
}, 60_000);

describe('OPC UA server', () => {
  it('browses Site → Devices → channels, Outputs and Gateway', async () => {
    const session = await signIn('viewer');
    const site = await session.browse('ns=1;s=site/tank');
    expect(site.references?.map((r) => r.browseName.name)).toEqual(expect.arrayContaining(['Gateway', 'Devices', 'Outputs']));
    const devices = await session.browse('ns=1;s=site/tank/Devices');
    expect(devices.references?.map((r) => r.browseName.name)).toEqual(expect.arrayContaining(['probe', 'silent', 'gauge', 'relays']));
    const probe = await session.browse('ns=1;s=device/probe');
    expect(probe.references?.map((r) => r.browseName.name)).toEqual(expect.arrayContaining(['tank.ch4', 'Diagnostics', 'tank.ch4.Alarm']));
  }, 60_000);

  it('reads a value with its engineering units, range, status and source timestamp', async () => {
    const session = await signIn('viewer');
    await until(() => agent.latest.get('tank.ch4')?.quality === 'good', 10_000, 'a good ch4 reading');
    // The server starts after the first reading (node-opcua loads lazily): that reading may reach its node a moment
    // after the agent has it. Read until the node has left its initial state, then judge what it says.
    let value = await session.read({ nodeId: 'ns=1;s=channel/tank.ch4', attributeId: AttributeIds.Value });
    for (let i = 0; i < 100 && value.statusCode.name === 'BadWaitingForInitialData'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      value = await session.read({ nodeId: 'ns=1;s=channel/tank.ch4', attributeId: AttributeIds.Value });
    }
    expect(value.statusCode.name).toBe('Good');
    expect(value.value.value).toBe(5);
    expect(Math.abs(value.sourceTimestamp!.getTime() - Date.now())).toBeLessThan(60_000);
    const paths = await session.translateBrowsePath([makeBrowsePath('ns=1;s=channel/tank.ch4', '.EngineeringUnits'), makeBrowsePath('ns=1;s=channel/tank.ch4', '.EURange')]);
    const [units, range] = await session.read(paths.map((p) => ({ nodeId: p.targets![0]!.targetId, attributeId: AttributeIds.Value })));
    expect((units!.value.value as { displayName: LocalizedText }).displayName.text).toBe('%LEL');
    expect(range!.value.value).toMatchObject({ low: 0, high: 100 });
    // A probe that never answers: a communication error, never a number.
    await until(() => agent.latest.get('silent.gas')?.quality === 'bad', 10_000, 'a bad reading of the silent probe');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const silent = await session.read({ nodeId: 'ns=1;s=channel/silent.gas', attributeId: AttributeIds.Value });
    expect(silent.statusCode.name).toBe('BadCommunicationError');
    expect(silent.value.value).toBeNull();
    const breaker = await session.read({ nodeId: 'ns=1;s=device/silent/Diagnostics/Timeouts', attributeId: AttributeIds.Value });
    expect(breaker.value.value).toBeGreaterThan(0);
  }, 60_000);

  it('a subscription sees a change at the probe', async () => {
    const session = await signIn('viewer');
    const subscription = await session.createSubscription2({ requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 20, publishingEnabled: true });
    const item = await subscription.monitor({ nodeId: 'ns=1;s=channel/tank.ch4', attributeId: AttributeIds.Value }, { samplingInterval: 100, queueSize: 10 }, TimestampsToReturn.Both);
    const seen: unknown[] = [];
    item.on('changed', (dataValue) => seen.push(dataValue.value.value));
    await until(() => seen.includes(5), 10_000, 'the initial value');
    sim.setValue(1, 'concentration', { constant: 7.5 });
    await until(() => seen.includes(7.5), 10_000, 'the changed value');
    sim.setValue(1, 'concentration', { constant: 5 });
    await subscription.terminate();
  }, 60_000);

  it('acknowledging the limit alarm acknowledges it in the alarm engine', async () => {
    const session = await signIn('op');
    sim.setValue(1, 'concentration', { constant: 60 });
    await until(() => agent.alarms.channel('tank.ch4')?.level === 'L2', 10_000, 'L2 in the engine');
    expect(agent.alarms.channel('tank.ch4')!.acknowledged).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [eventIdPath, ackedPath, limitPath] = await session.translateBrowsePath([
      makeBrowsePath('ns=1;s=channel/tank.ch4/Alarm', '.EventId'),
      makeBrowsePath('ns=1;s=channel/tank.ch4/Alarm', '.AckedState.Id'),
      makeBrowsePath('ns=1;s=channel/tank.ch4/Alarm', '.LimitState.CurrentState'),
    ]);
    const [eventId, ackedBefore, limit] = await session.read([eventIdPath!, ackedPath!, limitPath!].map((p) => ({ nodeId: p.targets![0]!.targetId, attributeId: AttributeIds.Value })));
    expect(ackedBefore!.value.value).toBe(false);
    expect((limit!.value.value as LocalizedText).text).toBe('HighHigh');

    // A viewer may not acknowledge.
    const viewer = await signIn('viewer');
    const refused = await viewer.call({
      objectId: 'ns=1;s=channel/tank.ch4/Alarm',
      methodId: 'ns=0;i=9111',
      inputArguments: [{ dataType: DataType.ByteString, value: eventId!.value.value }, { dataType: DataType.LocalizedText, value: new LocalizedText({ text: 'no' }) }],
    });
    expect(refused.statusCode.name).toBe('BadUserAccessDenied');
    expect(agent.alarms.channel('tank.ch4')!.acknowledged).toBe(false);

    const result = await session.call({
      objectId: 'ns=1;s=channel/tank.ch4/Alarm',
      methodId: 'ns=0;i=9111',
      inputArguments: [{ dataType: DataType.ByteString, value: eventId!.value.value }, { dataType: DataType.LocalizedText, value: new LocalizedText({ text: 'seen on the HMI' }) }],
    });
    expect(result.statusCode.name).toBe('Good');
    expect(agent.alarms.channel('tank.ch4')!.acknowledged).toBe(true);
    const ackEvent = agent.events.recent(50).find((e) => e.type === 'alarm-acknowledged' && e.channelId === 'tank.ch4');
    expect(ackEvent?.by).toBe('opcua:op');
    const ackedAfter = await session.read({ nodeId: ackedPath!.targets![0]!.targetId, attributeId: AttributeIds.Value });
    expect(ackedAfter.value.value).toBe(true);
    sim.setValue(1, 'concentration', { constant: 5 });
    await until(() => agent.alarms.channel('tank.ch4')?.level === 'normal', 10_000, 'the alarm to clear');
  }, 60_000);

  it('an operator forces the fan through the command handler; a viewer is refused; bad arguments are refused with the reason', async () => {
    const operator = await signIn('op');
    const viewer = await signIn('viewer');
    const force = (session: ClientSession, state: string, duration: string) =>
      session.call({
        objectId: 'ns=1;s=output/fan',
        methodId: 'ns=1;s=output/fan/Force',
        inputArguments: [{ dataType: DataType.String, value: state }, { dataType: DataType.String, value: duration }],
      });

    const denied = await force(viewer, 'on', '10m');
    expect(denied.statusCode.name).toBe('BadUserAccessDenied');
    expect(String(denied.outputArguments?.[0]?.value)).toContain('operator');
    expect(agent.outputs.status('fan')!.override).toBeUndefined();

    const bad = await force(operator, 'maybe', '10m');
    expect(bad.statusCode.name).toBe('BadInvalidArgument');
    expect(String(bad.outputArguments?.[0]?.value)).toMatch(/^state: /);
    const noExpiry = await force(operator, 'on', 'forever');
    expect(noExpiry.statusCode.name).toBe('BadInvalidArgument');
    expect(String(noExpiry.outputArguments?.[0]?.value)).toMatch(/^for: /);
    expect(agent.outputs.status('fan')!.override).toBeUndefined();

    const ok = await force(operator, 'on', '10m');
    expect(ok.statusCode.name).toBe('Good');
    const override = agent.outputs.status('fan')!.override;
    expect(override).toMatchObject({ state: 'on', by: 'opcua:op' });
    expect(override!.remainingMs).toBeGreaterThan(500_000);
    await until(() => sim.readCoil(10, 0) === true, 10_000, 'the fan coil on');
    const shown = await operator.read({ nodeId: 'ns=1;s=output/fan/Override', attributeId: AttributeIds.Value });
    expect(shown.value.value).toBe('on');

    const released = await operator.call({ objectId: 'ns=1;s=output/fan', methodId: 'ns=1;s=output/fan/Release', inputArguments: [] });
    expect(released.statusCode.name).toBe('Good');
    expect(agent.outputs.status('fan')!.override).toBeUndefined();

    const baseline = await operator.call({
      objectId: 'ns=1;s=device/gauge',
      methodId: 'ns=1;s=device/gauge/ResetBaseline',
      inputArguments: [{ dataType: DataType.String, value: 'rock.crack' }],
    });
    expect(baseline.statusCode.name).toBe('Good');
    expect(agent.events.recent(50).some((e) => e.type === 'baseline-set' && e.by === 'opcua:op')).toBe(true);
  }, 60_000);

  it('HistoryRead returns the stored readings of a channel', async () => {
    const session = await signIn('viewer');
    const start = new Date(Date.now() - 10 * 60_000);
    const result = await session.readHistoryValue({ nodeId: 'ns=1;s=channel/tank.ch4' }, start, new Date());
    expect(result.statusCode.isGood()).toBe(true);
    const values = (result.historyData as unknown as { dataValues: Array<{ value: { value: unknown }; sourceTimestamp: Date | null }> }).dataValues;
    expect(values.length).toBeGreaterThan(5);
    expect(values.map((v) => v.value.value)).toEqual(expect.arrayContaining([5, 60]));
    const times = values.map((v) => v.sourceTimestamp!.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const stored = await agent.opcua!.history.query('tank.ch4', start.getTime(), Date.now());
    expect(stored.length).toBeGreaterThanOrEqual(values.length);
  }, 60_000);

  it('refuses anonymous sign-in and the unsecured endpoint by default', async () => {
    const secured = clientFor(MessageSecurityMode.SignAndEncrypt, SecurityPolicy.Basic256Sha256);
    await secured.connect(endpointUrl);
    await expect(secured.createSession()).rejects.toThrow();
    await expect(secured.createSession({ type: UserTokenType.UserName, userName: 'op', password: 'wrong' })).rejects.toThrow();

    const endpoints = await secured.getEndpoints();
    expect(endpoints.length).toBeGreaterThan(0);
    expect(endpoints.every((e) => e.securityMode !== MessageSecurityMode.None)).toBe(true);
    expect(endpoints.flatMap((e) => e.userIdentityTokens ?? []).some((t) => t.tokenType === UserTokenType.Anonymous)).toBe(false);

    const unsecured = clientFor(MessageSecurityMode.None, SecurityPolicy.None);
    const attempt = (async () => {
      await unsecured.connect(endpointUrl);
      await unsecured.createSession({ type: UserTokenType.UserName, userName: 'op', password: PASSWORDS.op });
    })();
    await expect(attempt).rejects.toThrow();
  }, 60_000);
});

describe('status code of a bad reading', () => {
  it('is mapped per reason', async () => {
    const { readingStatus, REASON_STATUS } = await import('../../agent/opcua/index.js');
    expect(readingStatus('bad', 'timeout')).toBe('BadCommunicationError');
    expect(readingStatus('bad', 'sensor-fault')).toBe('BadSensorFailure');
    expect(readingStatus('uncertain', 'warm-up')).toBe('BadWaitingForInitialData');
    expect(readingStatus('uncertain', 'over-range')).toBe('UncertainEngineeringUnitsExceeded');
    expect(readingStatus('good', undefined)).toBe('Good');
    // Every mapped name is a real status code of the library.
    for (const name of Object.values(REASON_STATUS)) expect((StatusCodes as unknown as Record<string, unknown>)[name]).toBeDefined();
  });
});
