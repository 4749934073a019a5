import { performance } from 'node:perf_hooks';
import { LevelDebouncer } from './debouncer.js';
import { resolveLine, type GpioChipInfo } from './line-catalog.js';
import { DEFAULT_SYSFS_GPIO_ROOT, readSysfsChips } from './sysfs-tree.js';
import {
  logicalLevel,
  physicalLevel,
  type GpioBackend,
  type GpioInputLine,
  type GpioLine,
  type GpioOutputLine,
  type ResolvedGpioLine,
} from './types.js';

type Bit = 0 | 1;

/** The part of an onoff Gpio this backend uses. */
export interface SysfsGpioHandle {
  readSync(): Bit;
  write(value: Bit): Promise<void>;
  watch(callback: (error: Error | null | undefined, value: Bit) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

/** Exports one line by its global number, as onoff's `new Gpio(number, direction, edge, options)` does. */
export type SysfsGpioFactory = (
  globalNumber: number,
  direction: 'in' | 'high' | 'low',
  edge: 'none' | 'both',
) => SysfsGpioHandle;

export interface SysfsBackendOptions {
  /** Where the sysfs GPIO tree is; another root is for resolution tests (onoff itself only knows /sys/class/gpio). */
  root?: string;
  /** Stands in for onoff (tests); by default onoff is loaded on the first open, so its native addon loads only here. */
  createGpio?: SysfsGpioFactory;
  now?: () => number;
}

/**
 * GPIO through the kernel's sysfs interface, with onoff. Deprecated by the kernel but still on Bookworm.
 * Unlike the character device, what sysfs exports outlives the process: if the agent dies, an output keeps
 * driving its last level, and even a clean release (unexport) leaves a Raspberry Pi pin driving its last level.
 */
export async function createSysfsBackend(options: SysfsBackendOptions = {}): Promise<GpioBackend> {
  const root = options.root ?? DEFAULT_SYSFS_GPIO_ROOT;
  const now = options.now ?? (() => performance.now());
  const chips: GpioChipInfo[] = await readSysfsChips(root);
  const where = `sysfs (${root})`;
  const open = new Set<{ release(): Promise<void> }>();
  let factory: SysfsGpioFactory | undefined = options.createGpio;

  const resolve = async (line: GpioLine): Promise<ResolvedGpioLine> => resolveLine(chips, line, where);

  const exportLine = async (at: ResolvedGpioLine, direction: 'in' | 'high' | 'low', edge: 'none' | 'both'): Promise<SysfsGpioHandle> => {
    if (at.sysfsNumber === undefined) throw new Error(`${at.text}: the chip's sysfs base is unknown`);
    if (!factory) {
      if (root !== DEFAULT_SYSFS_GPIO_ROOT) {
        throw new Error(`onoff can only use ${DEFAULT_SYSFS_GPIO_ROOT}; the tree at ${root} serves line resolution only`);
      }
      factory = await loadOnoff();
    }
    try {
      return factory(at.sysfsNumber, direction, edge);
    } catch (error) {
      throw new Error(`cannot open ${at.text} through sysfs: ${errorText(error)}`);
    }
  };

  return {
    kind: 'sysfs',
    description: `sysfs (${root}, onoff)`,
    resolve,

    async openOutput(line, initial) {
      const at = await resolve(line);
      // "high"/"low" as the direction sets the level in the same write: the relay never sees a default first.
      const gpio = await exportLine(at, physicalLevel(initial, line.activeLow) ? 'high' : 'low', 'none');
      let state = initial;
      let released = false;
      const output: GpioOutputLine = {
        async write(on) {
          if (released) throw new Error(`${at.text} was released`);
          await gpio.write(physicalLevel(on, line.activeLow) ? 1 : 0);
          state = on;
        },
        read: () => state,
        failure: () => (released ? 'released' : null),
        async release() {
          if (released) return;
          released = true;
          open.delete(output);
          gpio.unexport();
        },
      };
      open.add(output);
      return output;
    },

    async openInput(line, inputOptions) {
      const at = await resolve(line);
      const bias = inputOptions.bias ?? 'as-is';
      if (bias !== 'as-is') {
        // A floating contact reads noise: refuse rather than pretend. The firmware can set it instead.
        throw new Error(
          `${at.text}: bias ${bias} cannot be set through sysfs; use the character device backend, or set it in /boot/firmware/config.txt (e.g. "gpio=${at.offset}=ip,${bias === 'pull-up' ? 'pu' : bias === 'pull-down' ? 'pd' : 'pn'}") and write bias: as-is`,
        );
      }
      const gpio = await exportLine(at, 'in', 'both');
      const debouncer = new LevelDebouncer(logicalLevel(gpio.readSync() === 1, line.activeLow), inputOptions.debounceMs, now);
      let failure: string | null = null;
      gpio.watch((error, value) => {
        if (error) {
          failure = `${at.text}: ${errorText(error)}`;
          return;
        }
        debouncer.feed(logicalLevel(value === 1, line.activeLow));
      });
      let released = false;
      const input: GpioInputLine = {
        read: () => debouncer.level(),
        onChange: (listener) => debouncer.onChange(listener),
        edges: () => debouncer.edges(),
        failure: () => (released ? 'released' : failure),
        async release() {
          if (released) return;
          released = true;
          open.delete(input);
          debouncer.dispose();
          gpio.unwatchAll();
          gpio.unexport();
        },
      };
      open.add(input);
      return input;
    },

    async close() {
      await Promise.all([...open].map((line) => line.release()));
    },
  };
}

async function loadOnoff(): Promise<SysfsGpioFactory> {
  let onoff: typeof import('onoff');
  try {
    onoff = await import('onoff');
  } catch (error) {
    throw new Error(`the sysfs GPIO backend needs the onoff package (npm ci builds its epoll addon): ${errorText(error)}`);
  }
  return (globalNumber, direction, edge) => new onoff.Gpio(globalNumber, direction, edge, { activeLow: false });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
