/** The national geohazard IoT platform (universal-type device, OneNET-legacy MQTT $dp frames). */
export { createGeohazardProfile, GEOHAZARD_ACTIONS, GEOHAZARD_COMMAND_LIFETIME_MS, type GeohazardProfile } from './profile.js';
export { DP_TOPIC, DR_TOPIC, MAX_DP_JSON_BYTES, dpFrame, isoUtc } from './frame.js';
export { sensorState, type SensorState } from './status.js';
