import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { startTcpSimulator, transactionWireTimeMs, type WireTiming } from '../../drivers/simulator/index.js';
import { shippedProfile } from './profiles.js';
import { tcpMaster } from './rtu-master.js';

const gas = shippedProfile('gas-module-10reg');

/** FC03 of 10 registers: an 8-byte request, a 5 + 20 byte answer. */
const REQUEST_BYTES = 8;
const RESPONSE_BYTES = 25;

describe('wire-timing emulation', () => {
  it('computes the wire time of a transaction as the Modbus serial-line spec does', () => {
    const slow: WireTiming = { line: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 }, turnaroundMs: 5 };
    // 10 bits a char at 9600 baud: 1.0417 ms; t3.5 = 3.5 chars
    const char = 10_000 / 9600;
    expect(transactionWireTimeMs(slow, REQUEST_BYTES, RESPONSE_BYTES)).toBeCloseTo(8 * char + 3.5 * char + 5 + 25 * char, 6);
    const fast: WireTiming = { line: { baud: 115200, dataBits: 8, parity: 'even', stopBits: 1 }, turnaroundMs: 0 };
    // 11 bits a char; t3.5 fixed at 1.75 ms above 19200 baud
    expect(transactionWireTimeMs(fast, 8, 25)).toBeCloseTo((33 * 11_000) / 115200 + 1.75, 6);
  });

  it('a transaction at 9600 baud takes at least its wire time', async () => {
    const wireTiming: WireTiming = { line: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 }, turnaroundMs: 5 };
    const sim = await startTcpSimulator({ wireTiming, devices: [{ unit: 1, profile: gas }] });
    if (sim.endpoint.kind !== 'tcp') throw new Error('tcp');
    const master = await tcpMaster(sim.endpoint.host, sim.endpoint.port);
    try {
      const floor = transactionWireTimeMs(wireTiming, REQUEST_BYTES, RESPONSE_BYTES);
      for (let i = 0; i < 3; i++) {
        const sent = performance.now();
        const registers = await master.readRegisters(1, 0, 10);
        expect(performance.now() - sent).toBeGreaterThanOrEqual(floor);
        expect(registers[5]).toBe(1);
      }
    } finally {
      await master.close();
      await sim.close();
    }
  });

  it('at 115200 baud (sub-millisecond parts) a run of transactions takes at least the sum of wire times', async () => {
    const wireTiming: WireTiming = { line: { baud: 115200, dataBits: 8, parity: 'even', stopBits: 1 }, turnaroundMs: 0.5 };
    const sim = await startTcpSimulator({ wireTiming, devices: [{ unit: 1, profile: gas }] });
    if (sim.endpoint.kind !== 'tcp') throw new Error('tcp');
    const master = await tcpMaster(sim.endpoint.host, sim.endpoint.port);
    try {
      const count = 40;
      const floor = transactionWireTimeMs(wireTiming, REQUEST_BYTES, RESPONSE_BYTES);
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        const sent = performance.now();
        await master.readRegisters(1, 0, 10);
        expect(performance.now() - sent).toBeGreaterThanOrEqual(floor);
      }
      expect(performance.now() - started).toBeGreaterThanOrEqual(count * floor);
      expect(sim.stats().answered).toBe(count);
    } finally {
      await master.close();
      await sim.close();
    }
  });

  it('serialises answers like a half-duplex line: two masters at once take two wire times', async () => {
    const wireTiming: WireTiming = { line: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 }, turnaroundMs: 2 };
    const sim = await startTcpSimulator({ wireTiming, devices: [{ unit: 1, profile: gas }, { unit: 2, profile: gas }] });
    const endpoint = sim.endpoint;
    if (endpoint.kind !== 'tcp') throw new Error('tcp');
    const masters = await Promise.all([tcpMaster(endpoint.host, endpoint.port), tcpMaster(endpoint.host, endpoint.port)]);
    try {
      const floor = transactionWireTimeMs(wireTiming, REQUEST_BYTES, RESPONSE_BYTES);
      const started = performance.now();
      const finished: number[] = [];
      await Promise.all(
        masters.map(async (m, i) => {
          await m.readRegisters(i + 1, 0, 10);
          finished.push(performance.now() - started);
        }),
      );
      expect(Math.max(...finished)).toBeGreaterThanOrEqual(2 * floor);
    } finally {
      await Promise.all(masters.map((m) => m.close()));
      await sim.close();
    }
  });
});
