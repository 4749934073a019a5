import type { ProfileRegister } from '../schema/profile.js';
import type { PathSegment } from './config-error.js';
import type { Fields } from './lenient.js';

/**
 * What the cross-reference checks of a site file need to know about its parts: which channels, devices and
 * GPIO inputs exist, where they are written, and what a channel's register is. Built from the well-formed parts
 * only, so a part the schema already refused is simply absent and causes no second error.
 */

export interface Reporter {
  error(path: PathSegment[], message: string, hint?: string, at?: 'key' | 'value'): void;
  warning(path: PathSegment[], message: string, hint?: string, at?: 'key' | 'value'): void;
  /** The line where `path` is written, for "first at line N" hints. */
  lineOf(path: readonly PathSegment[]): number;
}

export interface ChannelEntry {
  id: string;
  /** ["devices", d, "channels", c] */
  path: PathSegment[];
  raw: Fields;
  deviceId: string | undefined;
  profileId: string | undefined;
  /** The profile register it maps; undefined when that could not be resolved (already reported). */
  register: ProfileRegister | undefined;
  /** The normal poll interval in ms, when it can be worked out. */
  intervalMs: number | undefined;
}

export interface DeviceEntry {
  id: string;
  path: PathSegment[];
  profileId: string | undefined;
  /** The registers of its profile; undefined when the profile could not be used (already reported). */
  registers: readonly ProfileRegister[] | undefined;
}

export interface GpioInputEntry {
  id: string;
  /** ["gpio", "inputs", i] */
  path: PathSegment[];
  raw: Fields;
  kind: 'contact' | 'counter';
}

export interface SiteIndex {
  /** The first channel of each id (a second one is reported as a duplicate). */
  channels: Map<string, ChannelEntry>;
  /** Every channel in file order, a duplicate id included, so each one's own settings are checked. */
  channelList: ChannelEntry[];
  devices: Map<string, DeviceEntry>;
  gpioInputs: Map<string, GpioInputEntry>;
}
