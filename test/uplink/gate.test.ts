import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../agent/clock/index.js';
import { CommandGate, createNativeProfile, type CommandExecutor, type CommandOptions } from '../../agent/uplink/index.js';

const profile = createNativeProfile({ siteId: 's', gatewayId: 'g', topicPrefix: 'vigil' });
const TOPIC = 'vigil/s/g/command';

function executor(log: string[] = []): CommandExecutor {
  return {
    execute: (input, by) => {
      log.push(`${(input as { action: string }).action} by ${by}`);
      return { ok: true, action: 'acknowledge', message: 'ok' };
    },
  };
}

function message(id: string, expiresAt: number): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, id, expiresAt, command: { action: 'acknowledge', channel: '*' } }));
}

function gate(clock: ManualClock, extra: Partial<CommandOptions> = {}, log: string[] = []): CommandGate {
  return new CommandGate({ handler: executor(log), ...extra }, clock);
}

describe('command gate: expiry with and without a synchronised clock', () => {
  const wall = Date.UTC(2026, 3, 1, 12);

  it('synchronised: stale once wall time reaches expiresAt; too far ahead refused', async () => {
    const clock = new ManualClock({ wallStart: wall, synced: true });
    const g = gate(clock);
    expect((await g.handle(profile.decodeCommand(TOPIC, message('a', wall + 1000)), false)).status).toBe('done');
    expect((await g.handle(profile.decodeCommand(TOPIC, message('b', wall)), false)).reason).toBe('stale');
    expect((await g.handle(profile.decodeCommand(TOPIC, message('c', wall + 2 * 3_600_000)), false)).reason).toBe('expiry-too-far');
  });

  it('unsynchronised with no known true time: runs (operators keep control when NTP is down) and says the clock was not checked', async () => {
    // The gateway believes it is 1970 (no RTC, no fake-hwclock): wall time proves nothing.
    const clock = new ManualClock({ wallStart: 0, synced: false });
    const log: string[] = [];
    const outcome = await gate(clock, {}, log).handle(profile.decodeCommand(TOPIC, message('a', wall + 60_000)), false);
    expect(outcome).toMatchObject({ status: 'done', clock: 'unsynced' });
    expect(JSON.stringify(outcome.details)).toMatch(/not synchronised/);
    expect(log).toEqual(['acknowledge by platform:a']);
  });

  it('unsynchronised: refused as stale when it expired before a time known to have passed (last sync + monotonic time since)', async () => {
    const clock = new ManualClock({ wallStart: wall, synced: true });
    const g = gate(clock);
    g.observeClock(clock.stamp());
    clock.synced = false;
    clock.setWall(0); // the clock is lost
    clock.advance(10 * 60_000); // ten minutes later, by the monotonic clock
    expect((await g.handle(profile.decodeCommand(TOPIC, message('late', wall + 5 * 60_000)), false)).reason).toBe('stale');
    expect((await g.handle(profile.decodeCommand(TOPIC, message('ok', wall + 15 * 60_000)), false)).status).toBe('done');
  });

  it('unsynchronised after a restart: the persisted last known true time still refuses what expired before it', async () => {
    const clock = new ManualClock({ wallStart: wall, synced: true });
    const snapshot = gate(clock).snapshot();
    expect(snapshot.knownWallTs).toBe(wall);
    const rebooted = new ManualClock({ wallStart: 0, synced: false });
    const g = gate(rebooted, { restore: JSON.parse(JSON.stringify(snapshot)) });
    expect((await g.handle(profile.decodeCommand(TOPIC, message('old', wall - 1)), false)).reason).toBe('stale');
    expect((await g.handle(profile.decodeCommand(TOPIC, message('new', wall + 60_000)), false)).status).toBe('done');
  });
});

describe('command gate: duplicate ids', () => {
  it('remembers ids across a restart through snapshot(), and tells the owner when to persist', async () => {
    const clock = new ManualClock({ wallStart: Date.UTC(2026, 0, 1), synced: true });
    let changes = 0;
    const first = gate(clock, { onStateChange: () => changes++ });
    const expiresAt = clock.stamp().wallTs + 60_000;
    expect((await first.handle(profile.decodeCommand(TOPIC, message('x1', expiresAt)), false)).status).toBe('done');
    expect(changes).toBeGreaterThan(0);
    const second = gate(clock, { restore: JSON.parse(JSON.stringify(first.snapshot())) });
    expect((await second.handle(profile.decodeCommand(TOPIC, message('x1', expiresAt)), false)).reason).toBe('duplicate');
  });

  it('is bounded: the oldest ids are forgotten beyond rememberIds', async () => {
    const clock = new ManualClock({ wallStart: Date.UTC(2026, 0, 1), synced: true });
    const log: string[] = [];
    const g = gate(clock, { rememberIds: 3 }, log);
    const expiresAt = clock.stamp().wallTs + 60_000;
    for (const id of ['a', 'b', 'c', 'd']) await g.handle(profile.decodeCommand(TOPIC, message(id, expiresAt)), false);
    expect(g.snapshot().ids.map(([id]) => id)).toEqual(['b', 'c', 'd']);
    expect((await g.handle(profile.decodeCommand(TOPIC, message('d', expiresAt)), false)).reason).toBe('duplicate');
    expect(log).toHaveLength(4);
  });

  it('a command refused for its signature is not remembered (a forger cannot burn a real id)', async () => {
    const clock = new ManualClock({ wallStart: Date.UTC(2026, 0, 1), synced: true });
    const { Secret } = await import('../../agent/uplink/index.js');
    const g = gate(clock, { hmacKey: new Secret('k'), requireSignature: 'always' });
    const body = { v: 1, id: 'real', expiresAt: clock.stamp().wallTs + 60_000, command: { action: 'acknowledge', channel: '*' }, sig: 'ab'.repeat(32) };
    expect((await g.handle(profile.decodeCommand(TOPIC, Buffer.from(JSON.stringify(body))), false)).reason).toBe('bad-signature');
    expect(g.snapshot().ids).toEqual([]);
  });

  it('a handler that throws gives a failed result, never an exception', async () => {
    const clock = new ManualClock({ wallStart: Date.UTC(2026, 0, 1), synced: true });
    const g = new CommandGate({ handler: { execute: () => { throw new Error('boom'); } } }, clock);
    const outcome = await g.handle(profile.decodeCommand(TOPIC, message('t', clock.stamp().wallTs + 1000)), false);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'failed' });
    expect(outcome.message).toMatch(/boom/);
  });

  it('refuses to start when signatures are required but no key is configured', () => {
    expect(() => gate(new ManualClock(), { requireSignature: 'guarded' })).toThrow(/no HMAC key/);
  });
});
