/** The front of the Modbus driver: framing, transaction outcomes, decoding, read planning and profile devices. */
export * from './rtu.js';
export * from './outcome.js';
export * from './expression.js';
export * from './decode.js';
export * from './plan.js';
export * from './profile-device.js';
