import type { GpioLine } from '../../config/schema/index.js';

export type { GpioLine };

export type GpioBackendKind = 'chardev' | 'sysfs' | 'simulated';

/** A line named in the site file, pinned to the chip and offset it turned out to be on this machine. */
export interface ResolvedGpioLine {
  /** Kernel name of the chip, e.g. "gpiochip0" (sysfs: the character-device name when known). */
  chipName: string;
  chipLabel: string;
  offset: number;
  /** The line's own name, e.g. "GPIO17"; null when the chip does not name its lines. */
  lineName: string | null;
  /** sysfs only: the global number (chip base + offset) the kernel's sysfs interface wants. */
  sysfsNumber?: number;
  /** For logs and errors: "GPIO17 (pinctrl-bcm2711 offset 17)". */
  text: string;
}

/**
 * All values here are logical: on = active. A line with `activeLow` is on when the wire is low; the backend
 * does that inversion, so callers never think about wiring.
 */
export interface GpioOutputLine {
  write(on: boolean): Promise<void>;
  /** The state last written (logical). */
  read(): boolean;
  /** Why the line stopped being held (e.g. the holding process died), or null while it is held. */
  failure(): string | null;
  /** Gives the line back to the kernel. What the wire does then depends on the backend: see the backend. */
  release(): Promise<void>;
}

export interface GpioInputLine {
  /** The debounced logical level. */
  read(): boolean;
  /**
   * Called on every debounced change, with the new logical level and the monotonic time (performance.now()
   * domain unless the backend was given another clock) at which the change was accepted.
   */
  onChange(listener: (on: boolean, monoTs: number) => void): () => void;
  /** Debounced rising edges (logical off → on) since the line was opened. */
  edges(): number;
  /** Why the line stopped delivering changes (e.g. the monitor process died), or null while it works. */
  failure(): string | null;
  release(): Promise<void>;
}

/** The line's internal resistor; as-is leaves whatever the firmware or an earlier user set. */
export type GpioBias = 'as-is' | 'pull-up' | 'pull-down' | 'disabled';

export interface GpioInputOptions {
  /** A change of the wire must hold this long before it counts; 0 = every edge counts. */
  debounceMs: number;
  /** Default as-is. */
  bias?: GpioBias;
}

export interface GpioBackend {
  readonly kind: GpioBackendKind;
  /** For logs: which interface and tools are in use, e.g. "chardev (libgpiod v1.6.3 tools)". */
  readonly description: string;
  /** Finds the chip and offset of a line without touching it; rejects with GpioLineResolutionError. */
  resolve(line: GpioLine): Promise<ResolvedGpioLine>;
  /** Requests the line as an output driving `initial` from the first instant (logical; activeLow handled here). */
  openOutput(line: GpioLine, initial: boolean): Promise<GpioOutputLine>;
  openInput(line: GpioLine, options: GpioInputOptions): Promise<GpioInputLine>;
  /** Releases every line this backend opened. */
  close(): Promise<void>;
}

/** Physical level on the wire (true = high) for a logical state. */
export function physicalLevel(on: boolean, activeLow: boolean): boolean {
  return on !== activeLow;
}

/** Logical state for a physical level on the wire. */
export function logicalLevel(high: boolean, activeLow: boolean): boolean {
  return high !== activeLow;
}
