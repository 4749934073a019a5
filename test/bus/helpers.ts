/** Shared fixtures for the bus integration tests: a small device profile, line settings, bus construction. */
import { setTimeout as sleep } from 'node:timers/promises';
import { ModbusBus, type BusOptions, type DeviceOptions } from '../../agent/bus/index.js';
import { profile } from '../../config/schema/profile.js';
import type { LineSettings } from '../../drivers/modbus/rtu.js';
import type { SimDeviceSpec, SimFault, SimulatorEndpoint } from '../../drivers/simulator/index.js';

/** Two holding registers (a value and a writable setpoint) and two coils. PDU addresses = manual addresses. */
export const testProfile = profile.parse({
  id: 'bus-test-device',
  name: 'Bus test device',
  addressBase: 0,
  registers: [
    { name: 'level', fn: 3, address: 0, type: 'u16' },
    { name: 'setpoint', fn: 3, address: 1, type: 'u16', writable: true },
    { name: 'relay_1', fn: 1, address: 0, type: 'bit', writable: true },
    { name: 'relay_2', fn: 1, address: 1, type: 'bit', writable: true },
  ],
});

/** The value a test device reports in its "level" register: tells the units apart. */
export function levelOf(unit: number): number {
  return 1000 + unit;
}

export function simDevice(unit: number, fault: SimFault | null = null): SimDeviceSpec {
  return { unit, profile: testProfile, values: { level: { constant: levelOf(unit) } }, fault };
}

export const LEVEL_BLOCK = { fn: 3, address: 0, count: 2 } as const;

export const line115200: LineSettings = { baud: 115200, dataBits: 8, parity: 'none', stopBits: 1 };

export const breakerSettings: DeviceOptions['breaker'] = { failures: 3, minBackoff: 2000, maxBackoff: 8000 };

export function transportOf(endpoint: SimulatorEndpoint, line: LineSettings = line115200): BusOptions['transport'] {
  return endpoint.kind === 'tcp'
    ? { kind: 'tcp', host: endpoint.host, port: endpoint.port }
    : { kind: 'serial', path: endpoint.path, line };
}

export function makeBus(transport: BusOptions['transport'], overrides: Partial<BusOptions> = {}): ModbusBus {
  return new ModbusBus({
    id: 'test-bus',
    transport,
    timeoutMs: 100,
    retries: 0,
    reconnect: { minMs: 50, maxMs: 400 },
    ...overrides,
  });
}

export async function connected(bus: ModbusBus): Promise<void> {
  if (bus.connected) return;
  await new Promise<void>((resolve) => bus.once('connected', resolve));
}

/** Polls `condition` until it holds; fails after a generous limit (this only bounds a hang, it measures nothing). */
export async function eventually(condition: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`gave up waiting for: ${what}`);
    await sleep(10);
  }
}

/** Lets timers and I/O run between reads that may resolve at once (an open breaker, a port that is down). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
