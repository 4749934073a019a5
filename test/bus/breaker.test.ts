import { describe, expect, it } from 'vitest';
import { Breaker } from '../../agent/bus/breaker.js';

const settings = { failures: 3, minBackoff: 1000, maxBackoff: 4000 };

describe('Breaker', () => {
  it('opens after the configured number of consecutive failures, not before', () => {
    const breaker = new Breaker(settings);
    expect(breaker.recordFailure(0)).toBe(false);
    expect(breaker.recordFailure(0)).toBe(false);
    expect(breaker.rejects(0)).toBe(false);
    expect(breaker.recordFailure(0)).toBe(true);
    expect(breaker.state).toBe('open');
    expect(breaker.rejects(999)).toBe(true);
    expect(breaker.describeRefusal(0)).toBe('device not answering; next try in 1.0 s');
  });

  it('an answer in between resets the count', () => {
    const breaker = new Breaker(settings);
    breaker.recordFailure(0);
    breaker.recordFailure(0);
    breaker.recordAnswer();
    breaker.recordFailure(0);
    breaker.recordFailure(0);
    expect(breaker.state).toBe('closed');
  });

  it('lets exactly one probe through after the back-off; a failed probe doubles the back-off up to the max', () => {
    const breaker = new Breaker(settings);
    for (let i = 0; i < 3; i++) breaker.recordFailure(0);
    expect(breaker.rejects(1000)).toBe(false);
    expect(breaker.beginRead()).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.rejects(1000)).toBe(true);
    expect(breaker.recordFailure(1000)).toBe(true);
    expect(breaker.status(1000)).toMatchObject({ state: 'open', backoffMs: 2000, nextTryInMs: 2000 });
    breaker.beginRead();
    breaker.recordFailure(3000);
    expect(breaker.status(3000)).toMatchObject({ backoffMs: 4000, nextTryInMs: 4000 });
    breaker.beginRead();
    breaker.recordFailure(7000);
    expect(breaker.status(7000)).toMatchObject({ backoffMs: 4000 });
  });

  it('a successful probe closes it and resets the back-off', () => {
    const breaker = new Breaker(settings);
    for (let i = 0; i < 3; i++) breaker.recordFailure(0);
    breaker.beginRead();
    breaker.recordFailure(1000);
    breaker.beginRead();
    expect(breaker.recordAnswer()).toBe(true);
    expect(breaker.status(5000)).toEqual({ state: 'closed', consecutiveFailures: 0, backoffMs: 1000, nextTryInMs: null });
  });

  it('an abandoned probe leaves the next read to probe', () => {
    const breaker = new Breaker(settings);
    for (let i = 0; i < 3; i++) breaker.recordFailure(0);
    breaker.beginRead();
    breaker.abandonProbe();
    expect(breaker.state).toBe('open');
    expect(breaker.rejects(1000)).toBe(false);
    expect(breaker.beginRead()).toBe(true);
  });

  it('refuses settings that would never open or never wait', () => {
    expect(() => new Breaker({ failures: 0, minBackoff: 1, maxBackoff: 1 })).toThrow(/failures/);
    expect(() => new Breaker({ failures: 1, minBackoff: 10, maxBackoff: 5 })).toThrow(/minBackoff/);
  });
});
