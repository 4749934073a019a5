/**
 * The agent as a system service: notifications to systemd (READY, STATUS, WATCHDOG fed from the safety loop's
 * liveness, STOPPING) and the on-site health checks of `vigil doctor`. See docs/service.md.
 */
export { startServiceLink, type ServiceLink, type ServiceLinkOptions } from './service-link.js';
export { ServiceNotifier, serviceEnvironment, notifierFromEnvironment, type ServiceEnvironment } from './notifier.js';
export { WatchdogFeeder, type WatchdogFeederOptions } from './watchdog.js';
export {
  defaultNotifyTransport,
  socatNotifyTransport,
  systemdNotifyTransport,
  type NotifyTransport,
  type ToolTransportOptions,
} from './notify-transport.js';
export { findExecutable } from './executables.js';
export { runDoctor, formatReport, type DoctorOptions, type DoctorReport, type CheckResult, type CheckStatus } from './doctor/index.js';
