/**
 * The front of the Modbus driver: RTU framing, transaction outcomes, decoding and its inverse (encoding, for the
 * simulator), computed-value expressions, read planning and the profile-driven device.
 */
export * from './rtu.js';
export * from './outcome.js';
export * from './expression.js';
export * from './decode.js';
export * from './encode.js';
export * from './plan.js';
export * from './profile-device.js';
// decode.ts and encode.ts both have a parseBitRange; the front offers the decoder's ({ low, high }).
export { parseBitRange } from './decode.js';
