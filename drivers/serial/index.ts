export { watchDeviceIdentity, type IdentityWatch } from './identity.js';
