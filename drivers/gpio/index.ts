/**
 * GPIO of the gateway itself: backends (character device through the libgpiod tools, sysfs through onoff, an
 * in-process simulation), input channels (debounced contacts, pulse counters) and relay outputs.
 *
 * Lines are named by chip label + offset or by line name, never by a global number. Lines are released when the
 * agent exits (character device): wire relays so that released is the safe state.
 */
export type {
  GpioBackend,
  GpioBackendKind,
  GpioInputLine,
  GpioInputOptions,
  GpioLine,
  GpioOutputLine,
  ResolvedGpioLine,
} from './types.js';
export { createGpioBackend, detectGpioBackend } from './create-backend.js';
export type { GpioBackendChoice, GpioBackendOptions, GpioDetection } from './create-backend.js';
export { SimulatedGpio } from './simulated.js';
export type { PulseOptions, SimulatedChipSpec, TransitionOptions } from './simulated.js';
export { GpioLineResolutionError, HEADER_CHIP_LABELS } from './line-catalog.js';
export type { GpioChipInfo } from './line-catalog.js';
export { GpioInputs, GPIO_DEVICE_ID } from './inputs.js';
export type { GpioCounterTotals } from './inputs.js';
export { gpioOutputDriver } from './output-driver.js';
export type { GpioOutputDriver, GpioWriteResult } from './output-driver.js';
export type { SysfsGpioFactory, SysfsGpioHandle } from './sysfs-backend.js';
