import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler, type AlarmCommands, type OutputCommands } from '../../agent/commands/index.js';
import { Secret, nativeSignedText, type CommandOptions } from '../../agent/uplink/index.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { BASE, PREFIX, SITE, Subscriber, expectValid, makeUplink, waitUntil, type Received, type TestUplink } from './helpers.js';

const KEY = 'shared-hmac-key-for-tests';
const COMMAND_TOPIC = `${BASE}/command`;

function fakeSafety(): { alarms: AlarmCommands; outputs: OutputCommands; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    alarms: {
      acknowledge: (channel, by) => (calls.push(`acknowledge ${channel} by ${by}`), { acknowledged: [String(channel)] }),
      reset: (channel, by) => (calls.push(`reset ${channel} by ${by}`), { reset: [String(channel)], refused: [] }),
      setBaseline: (channel, by) => (calls.push(`set-baseline ${channel} by ${by}`), { ok: true, baseline: 1 }),
      channel: (id) => (id === 'tank1.h2s' ? {} : undefined),
    },
    outputs: {
      force: (output, state, forMs, by) => (calls.push(`force ${output} ${state} ${forMs} by ${by}`), { ok: true, until: forMs }),
      clearOverride: (output, by) => (calls.push(`release ${output} by ${by}`), { ok: true }),
      silence: (by) => (calls.push(`silence by ${by}`), { silenced: [] }),
    },
  };
}

function sign(envelope: Record<string, unknown>, key = KEY, topic = COMMAND_TOPIC): Record<string, unknown> {
  const sig = createHmac('sha256', key).update(nativeSignedText(topic, envelope), 'utf8').digest('hex');
  return { ...envelope, sig };
}

describe('commands from the platform', () => {
  let broker: TestBroker;
  let platform: Subscriber;
  let t: TestUplink;
  const safety = fakeSafety();
  const pushed: unknown[] = [];
  let n = 0;

  const fresh = (command: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    v: 1,
    id: `cmd-${++n}`,
    expiresAt: Date.now() + 60_000,
    command,
    ...extra,
  });

  /** Sends and waits for the result with that id (for id-less garbage: the next result without an id). */
  async function send(payload: string | Record<string, unknown>, retain = false): Promise<Record<string, unknown>> {
    const before = platform.on('command/result').length;
    const id = typeof payload === 'string' ? null : (payload.id as string);
    await platform.publish(COMMAND_TOPIC, typeof payload === 'string' ? payload : JSON.stringify(payload), retain);
    let result: Received | undefined;
    await waitUntil(() => {
      result = platform.on('command/result').slice(before).find((m) => m.body.id === id);
      return result !== undefined;
    }, `the result of ${id ?? 'a malformed command'}`);
    return result?.body ?? {};
  }

  const commandOptions = (): CommandOptions => ({
    handler: new CommandHandler(safety.alarms, safety.outputs),
    pushConfig: (command, ctx) => {
      pushed.push({ command, ctx });
      return { ok: true, action: 'acknowledge', message: 'config accepted (test)' };
    },
    hmacKey: new Secret(KEY),
    requireSignature: 'guarded',
  });

  beforeAll(async () => {
    broker = await startBroker();
    platform = await Subscriber.connect(broker);
    t = makeUplink(broker.url, broker, { commands: commandOptions() });
    t.uplink.start();
    await waitUntil(() => t.uplink.stats().state === 'online', 'online');
    // The command subscription is in place once a command gets an answer.
    const warmups: string[] = [];
    await waitUntil(() => {
      const warmup = fresh({ action: 'acknowledge', channel: '*' });
      warmups.push(String(warmup.id));
      void platform.publish(COMMAND_TOPIC, JSON.stringify(warmup));
      return platform.on('command/result').some((m) => warmups.includes(String(m.body.id)));
    }, 'the command subscription');
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  afterAll(async () => {
    await t.uplink.stop(200);
    await platform.close();
    await broker.close();
  });

  it('runs a valid command and says so', async () => {
    const command = fresh({ action: 'acknowledge', channel: 'tank1.h2s' });
    expectValid('command', command);
    const result = await send(command);
    expect(result).toMatchObject({ v: 1, id: `cmd-${n}`, status: 'done', reason: null, action: 'acknowledge', clock: 'synced' });
    expect(safety.calls).toContain(`acknowledge tank1.h2s by platform:cmd-${n}`);
  });

  it('refuses a duplicate id and does not run it again', async () => {
    const command = fresh({ action: 'acknowledge', channel: '*' });
    expect((await send(command)).status).toBe('done');
    const count = safety.calls.filter((c) => c.startsWith('acknowledge *')).length;
    const again = await send(command);
    expect(again).toMatchObject({ id: command.id, status: 'refused', reason: 'duplicate', details: { original: { status: 'done' } } });
    expect(safety.calls.filter((c) => c.startsWith('acknowledge *')).length).toBe(count);
  });

  it('refuses a stale command and one whose expiry is implausibly far ahead', async () => {
    const before = safety.calls.length;
    expect(await send(fresh({ action: 'acknowledge', channel: '*' }, { expiresAt: Date.now() - 1000 }))).toMatchObject({ status: 'refused', reason: 'stale' });
    // Signatures are judged first: a stale unsigned force is refused for its missing signature.
    expect(await send(fresh({ action: 'silence' }, { expiresAt: Date.now() - 1000 }))).toMatchObject({ status: 'refused', reason: 'signature-required' });
    expect(await send(fresh({ action: 'acknowledge', channel: '*' }, { expiresAt: Date.now() + 30 * 86_400_000 }))).toMatchObject({
      status: 'refused',
      reason: 'expiry-too-far',
    });
    const { expiresAt: _drop, ...ttlForm } = fresh({ action: 'acknowledge', channel: '*' });
    expect(await send({ ...ttlForm, issuedAt: Date.now() - 120_000, ttl: 60_000 })).toMatchObject({ status: 'refused', reason: 'stale' });
    expect(safety.calls.length).toBe(before);
  });

  it('refuses malformed JSON and malformed fields, with the reason', async () => {
    expect(await send('{not json')).toMatchObject({ id: null, status: 'refused', reason: 'malformed', message: 'not JSON' });
    expect(await send('[1,2]')).toMatchObject({ id: null, status: 'refused', reason: 'malformed' });
    const { expiresAt: _drop, ...noExpiry } = fresh({ action: 'silence' });
    const missing = await send(noExpiry);
    expect(missing).toMatchObject({ id: noExpiry.id, status: 'refused', reason: 'malformed' });
    expect(String(missing.message)).toMatch(/expires/);
    expect(await send(fresh({ action: 'silence' }, { v: 2 }))).toMatchObject({ status: 'refused', reason: 'malformed' });
    expect(await send(fresh({ action: 'silence' }, { extra: true }))).toMatchObject({ status: 'refused', reason: 'malformed' });
    expect(await send(fresh({ nothing: 'here' }))).toMatchObject({ status: 'refused', reason: 'malformed' });
  });

  it('requires a valid signature for commands that move outputs, and refuses a bad one', async () => {
    const force = { action: 'force', output: 'fan1', state: 'on', for: '10m' };
    expect(await send(fresh(force))).toMatchObject({ status: 'refused', reason: 'signature-required', action: 'force' });
    expect(await send(sign(fresh(force), 'wrong-key'))).toMatchObject({ status: 'refused', reason: 'bad-signature' });
    // Signed for another gateway's topic: refused here.
    expect(await send(sign(fresh(force), KEY, `${PREFIX}/${SITE}/other-gw/command`))).toMatchObject({ reason: 'bad-signature' });
    // Tampered after signing.
    const tampered = { ...sign(fresh(force)), command: { ...force, for: '1d' } };
    expect(await send(tampered)).toMatchObject({ reason: 'bad-signature' });
    expect(safety.calls.filter((c) => c.startsWith('force'))).toEqual([]);
    const good = sign(fresh(force));
    expectValid('command', good);
    expect(await send(good)).toMatchObject({ id: good.id, status: 'done', action: 'force' });
    expect(safety.calls).toContain(`force fan1 on 600000 by platform:${String(good.id)}`);
    // A signature is checked even where it is not required.
    expect(await send(sign(fresh({ action: 'acknowledge', channel: '*' }), 'wrong-key'))).toMatchObject({ reason: 'bad-signature' });
  });

  it('refuses unknown actions and invalid operator commands', async () => {
    expect(await send(fresh({ action: 'self-destruct' }))).toMatchObject({ status: 'refused', reason: 'unsupported', action: 'self-destruct' });
    const invalid = await send(fresh({ action: 'acknowledge' }));
    expect(invalid).toMatchObject({ status: 'refused', reason: 'invalid', action: 'acknowledge' });
    expect(String(invalid.message)).toMatch(/channel/);
    expect(await send(fresh({ action: 'acknowledge', channel: 'nope' }))).toMatchObject({ status: 'refused', reason: 'invalid' });
  });

  it('refuses a retained command (delivered as retained on subscribe)', async () => {
    const command = fresh({ action: 'acknowledge', channel: '*' });
    // A gateway that (re)connects gets a retained message with the retain flag: it must not act on it.
    await t.uplink.stop(200);
    await platform.publish(COMMAND_TOPIC, JSON.stringify(command), true);
    const before = safety.calls.length;
    t = makeUplink(broker.url, broker, { commands: commandOptions() });
    t.uplink.start();
    let result: Received | undefined;
    await waitUntil(() => (result = platform.on('command/result').find((m) => m.body.id === command.id)) !== undefined, 'result of the retained command');
    expect(result?.body).toMatchObject({ status: 'refused', reason: 'retained' });
    expect(safety.calls.length).toBe(before);
    await platform.publish(COMMAND_TOPIC, '', true); // clear it
  });

  it('routes push-config to its handler (signed, as it changes config)', async () => {
    const command = sign(fresh({ action: 'push-config', site: { id: 'x' } }));
    expect(await send(command)).toMatchObject({ status: 'done', message: 'config accepted (test)' });
    expect(pushed).toEqual([{ command: { action: 'push-config', site: { id: 'x' } }, ctx: { id: command.id, by: `platform:${String(command.id)}` } }]);
  });

  it("ignores other gateways' command topics, answers every message on its own, and every result matches the schema", async () => {
    await platform.publish(`${PREFIX}/${SITE}/other-gw/command`, JSON.stringify(fresh({ action: 'silence' })));
    const result = await send(fresh({ action: 'acknowledge', channel: '*' }));
    expect(result.status).toBe('done');
    for (const m of platform.on('command/result')) expectValid('command-result', m.body);
    expect(platform.messages.filter((m) => m.topic === `${PREFIX}/${SITE}/other-gw/command/result`)).toEqual([]);
    const stats = t.uplink.stats().commands;
    expect(stats.received).toBe(stats.done + stats.refused + stats.failed);
    expect(platform.invalid).toEqual([]);
  });
});
