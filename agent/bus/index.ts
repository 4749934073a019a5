/**
 * The bus owner: one ModbusBus per physical RS-485 line, the only code that touches its port.
 */
export { ModbusBus } from './modbus-bus.js';
export type { BusOptions, BusTraceEvent, DeviceOptions, WriteRequest, BusEvent } from './modbus-bus.js';
export type { JobPriority } from './job-queue.js';
export type { BusCounters, DeviceCounters, LatencyStats } from './counters.js';
export type { BreakerSettings, BreakerState, BreakerStatus } from './breaker.js';
export type { Link, Transport } from './link.js';
export { createLink } from './create-link.js';
