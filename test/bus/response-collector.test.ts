import { describe, expect, it } from 'vitest';
import { ResponseCollector } from '../../agent/bus/response-collector.js';
import {
  encodeException,
  encodeResponse,
  expectedResponseLength,
  type ModbusRequest,
} from '../../drivers/modbus/rtu.js';

const read: ModbusRequest = { unit: 7, fn: 3, address: 10, count: 2 };
const answer = encodeResponse(read, { fn: 3, registers: [0x1234, 0x0042] });

function collectorFor(request: ModbusRequest): ResponseCollector {
  const collector = new ResponseCollector();
  collector.begin(request, expectedResponseLength(request));
  return collector;
}

describe('ResponseCollector', () => {
  it('accepts an answer delivered in pieces, behind noise and a foreign answer', () => {
    const collector = collectorFor(read);
    const foreign = encodeResponse({ ...read, unit: 3 }, { fn: 3, registers: [1, 2] });
    expect(collector.push(Buffer.from([0x00, 0xff]))).toBeNull();
    expect(collector.push(foreign)).toBeNull();
    expect(collector.push(answer.subarray(0, 4))).toBeNull();
    expect(collector.push(answer.subarray(4))).toEqual({ ok: true, registers: [0x1234, 0x0042] });
    expect(collector.end()).toBe(2 + foreign.length);
  });

  it('reports an exception with its code and name', () => {
    const collector = collectorFor(read);
    expect(collector.push(encodeException(7, 3, 2))).toEqual({
      ok: false,
      failure: 'exception',
      exceptionCode: 2,
      detail: 'Modbus exception 2 (illegal data address)',
    });
  });

  it('judges a frame-shaped run with a bad CRC as crc once the line is quiet', () => {
    const collector = collectorFor(read);
    const corrupt = Buffer.from(answer);
    corrupt[4]! ^= 0x01;
    expect(collector.push(corrupt)).toBeNull();
    expect(collector.judgeable).toBe(true);
    expect(collector.quietOutcome()).toMatchObject({ ok: false, failure: 'crc' });
  });

  it('judges a frame’s worth of bytes with nothing frame-shaped as framing (noise)', () => {
    const collector = collectorFor(read);
    expect(collector.push(Buffer.from([1, 2, 3, 4]))).toBeNull();
    expect(collector.judgeable).toBe(false);
    expect(collector.push(Buffer.from([5, 6, 7, 8, 9]))).toBeNull();
    expect(collector.judgeable).toBe(true);
    expect(collector.quietOutcome()).toMatchObject({ ok: false, failure: 'framing', detail: expect.stringContaining('9 bytes') });
  });

  it('a partial answer at the deadline is a timeout that says how much came', () => {
    const collector = collectorFor(read);
    collector.push(answer.subarray(0, 5));
    expect(collector.timeoutOutcome(500)).toEqual({
      ok: false,
      failure: 'timeout',
      detail: 'no complete answer within 500 ms (5 of 9 bytes received)',
    });
    const silent = collectorFor(read);
    expect(silent.timeoutOutcome(500)).toEqual({ ok: false, failure: 'timeout', detail: 'no answer within 500 ms' });
  });

  it('refuses a write echo that confirms something else', () => {
    const write: ModbusRequest = { unit: 7, fn: 6, address: 4, value: 99 };
    const collector = collectorFor(write);
    const otherValue = encodeResponse(write, { fn: 6, address: 4, quantityOrValue: 98 });
    expect(collector.push(otherValue)).toMatchObject({ ok: false, failure: 'framing', detail: expect.stringContaining('not confirmed') });
    const good = collectorFor(write);
    expect(good.push(encodeResponse(write, { fn: 6, address: 4, quantityOrValue: 99 }))).toEqual({ ok: true });
  });

  it('survives a flood larger than its buffer and still finds the answer at the tail', () => {
    const collector = collectorFor(read);
    expect(collector.push(Buffer.alloc(700, 0x55))).toBeNull();
    expect(collector.push(Buffer.alloc(300, 0xaa))).toBeNull();
    expect(collector.push(answer)).toEqual({ ok: true, registers: [0x1234, 0x0042] });
    expect(collector.end()).toBe(1000);
  });

  it('counts stale bytes left from before the request as noise', () => {
    const collector = new ResponseCollector();
    collector.push(Buffer.from([1, 2, 3]));
    expect(collector.begin(read, 9)).toBe(3);
  });
});

describe('ResponseCollector at the deadline', () => {
  it('calls bytes that cannot start our answer noise (framing), not a partial answer', () => {
    const collector = collectorFor(read);
    collector.push(Buffer.from([0x11, 0x22, 0x07, 0x10, 0x33]));
    expect(collector.timeoutOutcome(200)).toMatchObject({ ok: false, failure: 'framing', detail: expect.stringContaining('5 bytes') });
  });
});

describe('ResponseCollector and answers to other requests', () => {
  const lateForeign = encodeResponse({ unit: 9, fn: 3, address: 0, count: 4 }, { fn: 3, registers: [1, 2, 3, 4] });

  it('a late answer from another unit is neither our answer nor noise: silence after it is a timeout', () => {
    const collector = collectorFor(read);
    expect(collector.push(lateForeign)).toBeNull();
    expect(collector.judgeable).toBe(false);
    expect(collector.timeoutOutcome(100)).toEqual({
      ok: false,
      failure: 'timeout',
      detail: `no answer within 100 ms (${lateForeign.length} bytes of answers to other requests ignored)`,
    });
  });

  it('our answer behind a late foreign answer is still found', () => {
    const collector = collectorFor(read);
    collector.push(lateForeign);
    expect(collector.push(answer)).toEqual({ ok: true, registers: [0x1234, 0x0042] });
  });

  it('noise beside a foreign answer is still judged as noise', () => {
    const collector = collectorFor(read);
    collector.push(lateForeign);
    collector.push(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44]));
    expect(collector.judgeable).toBe(true);
    expect(collector.quietOutcome()).toMatchObject({ failure: 'framing' });
  });
});
