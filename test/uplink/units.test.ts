import { describe, expect, it } from 'vitest';
import { canonicalJson, createNativeProfile, readBrokerCredentials, Secret } from '../../agent/uplink/index.js';
import { ReconnectBackoff } from '../../agent/uplink/backoff.js';
import { TokenBucket } from '../../agent/uplink/token-bucket.js';
import { expectValid } from './helpers.js';
import { inspect } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('reconnect back-off', () => {
  it('is capped exponential with full jitter, and starts over after reset', () => {
    const top = new ReconnectBackoff(100, 1000, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = new ReconnectBackoff(100, 1000, () => 0);
    expect([1, 2, 3].map(() => bottom.next())).toEqual([0, 0, 0]);
    top.reset();
    expect(top.next()).toBe(99);
    expect(() => new ReconnectBackoff(0, 10)).toThrow();
  });
});

describe('token bucket (replay pacing)', () => {
  it('refills at the rate up to the burst, on the clock it is given', () => {
    let now = 0;
    const bucket = new TokenBucket(1000, 200, () => now);
    expect(bucket.available()).toBe(200);
    bucket.take(200);
    expect(bucket.msUntil(100)).toBe(100);
    now += 50;
    expect(bucket.available()).toBe(50);
    now += 10_000;
    expect(bucket.available()).toBe(200);
    expect(bucket.msUntil(500)).toBe(0); // never waits for more than the burst
  });
});

describe('canonical JSON (what a signature covers)', () => {
  it('sorts keys at every depth, drops whitespace, keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, e: null })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1,"e":null}');
    expect(canonicalJson({ n: 1e21, m: 0.1, s: 'é"\n' })).toBe('{"m":0.1,"n":1e+21,"s":"é\\"\\n"}');
  });
});

describe('native profile', () => {
  const profile = createNativeProfile({ siteId: 'rock-7', gatewayId: 'gw-7', topicPrefix: 'city/hazard' });

  it('encodes readings, events and states that match the schemas', () => {
    const telemetry = profile.encodeTelemetry([
      { stream: 'telemetry', seq: 7, ts: 1, clock: 'corrected', historical: true, reading: { channelId: 'rock.crack', deviceId: 'rock', indicator: 'L1_LF_1', value: 1.25, unit: 'mm', quality: 'good' } },
    ]);
    expect(telemetry.topic).toBe('city/hazard/rock-7/gw-7/telemetry');
    expect(telemetry.retain).toBe(false);
    expectValid('telemetry', JSON.parse(telemetry.payload.toString()));
    const event = profile.encodeEvent({
      stream: 'event',
      seq: 8,
      ts: 2,
      clock: 'synced',
      historical: false,
      event: { type: 'crack-grade', channelId: 'rock.crack', grade: null, value: 3, unit: 'mm', rule: 'tangent angle', wallTs: 2, monoTs: 2, clockSynced: true },
    });
    expectValid('event', JSON.parse(event.payload.toString()));
    const will = profile.encodeWill();
    expect(will).toMatchObject({ topic: 'city/hazard/rock-7/gw-7/state', retain: true });
    expectValid('state', JSON.parse(will.payload.toString()));
    expectValid('state', JSON.parse(profile.encodeShutdown({ ts: 3, clock: 'unsynced' }).payload.toString()));
    expectValid('state', JSON.parse(profile.encodeBirth({ ts: 4, clock: 'synced', version: '1', configHash: 'h', channels: [{ id: 'rock.crack' }], latest: [] }).payload.toString()));
  });

  it('the schemas catch a wrong payload (they can fail)', () => {
    expect(() => expectValid('telemetry', { v: 1, site: 'rock-7', gateway: 'gw-7', readings: [{ seq: 1 }] })).toThrow(/telemetry/);
    expect(() => expectValid('state', { v: 1, site: 'rock-7', gateway: 'gw-7', online: true, reason: 'connected' })).toThrow();
    expect(() => expectValid('command-result', { v: 1, site: 's', gateway: 'g', id: null, status: 'done', reason: 'stale', message: '', ts: 1, clock: 'synced' })).toThrow();
  });

  it('turns issuedAt + ttl into an expiry and refuses both forms at once', () => {
    const topic = 'city/hazard/rock-7/gw-7/command';
    const ok = profile.decodeCommand(topic, Buffer.from(JSON.stringify({ v: 1, id: 'a', issuedAt: 1000, ttl: 500, command: { action: 'silence' } })));
    expect(ok.ok && ok.command.expiresAt).toBe(1500);
    const both = profile.decodeCommand(topic, Buffer.from(JSON.stringify({ v: 1, id: 'a', issuedAt: 1000, ttl: 500, expiresAt: 9, command: { action: 'silence' } })));
    expect(both.ok).toBe(false);
    expect(profile.decodeCommand('city/hazard/rock-7/other/command', Buffer.from('{}')).ok).toBe(false);
  });
});

describe('credentials', () => {
  it('reads user name and password from files (trailing newline dropped) or the environment; secrets never print', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cred-'));
    writeFileSync(join(dir, 'user'), 'gw-7\n');
    writeFileSync(join(dir, 'pass'), 'hunter2-secret\n');
    const fromFiles = readBrokerCredentials({ usernameFile: join(dir, 'user'), passwordFile: join(dir, 'pass'), env: {} });
    expect(fromFiles.username).toBe('gw-7');
    expect(fromFiles.password?.revealText()).toBe('hunter2-secret');
    const printed = [String(fromFiles.password), JSON.stringify(fromFiles), inspect(fromFiles), `${fromFiles.password}`].join(' ');
    expect(printed).not.toMatch(/hunter2/);
    const fromEnv = readBrokerCredentials({ env: { VIGIL_MQTT_USERNAME: 'u', VIGIL_MQTT_PASSWORD: 'p' } });
    expect([fromEnv.username, fromEnv.password?.revealText()]).toEqual(['u', 'p']);
    expect(() => readBrokerCredentials({ passwordFile: join(dir, 'missing') })).toThrow(/MQTT password file .*missing: ENOENT/);
    expect(() => readBrokerCredentials({ certFile: join(dir, 'user'), env: {} })).toThrow(/both the client certificate and its key/);
    expect(inspect(new Secret('x'))).toBe('[redacted]');
  });
});
