export { PollScheduler } from './scheduler.js';
export type {
  BusReader,
  PollableDevice,
  PollPriority,
  ScheduledChannel,
  ScheduledDevice,
  DevicePollStats,
} from './scheduler.js';
