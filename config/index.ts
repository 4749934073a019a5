/** The configuration of a Vigil gateway: site files and driver profiles (validated), and machine settings. */
export * from './schema/index.js';
export * from './load/index.js';
export type {
  LoadSettingsOptions,
  LogLevel,
  MqttSettings,
  SettingDescription,
  Settings,
  SettingsProblem,
} from './settings.js';
export type { ApiSettings } from './api-settings.js';
export type { OpcuaSettings } from './opcua-settings.js';
export { LOG_LEVELS, SettingsError, describeSettings, loadSettings } from './settings.js';
