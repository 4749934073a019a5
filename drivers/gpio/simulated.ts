import { performance } from 'node:perf_hooks';
import { LevelDebouncer } from './debouncer.js';
import { chipsSummary, resolveLine, type GpioChipInfo } from './line-catalog.js';
import {
  logicalLevel,
  physicalLevel,
  type GpioBackend,
  type GpioInputLine,
  type GpioInputOptions,
  type GpioLine,
  type GpioOutputLine,
  type ResolvedGpioLine,
} from './types.js';

export interface SimulatedChipSpec {
  name: string;
  label: string;
  /** One entry per line; null = unnamed. */
  lineNames: ReadonlyArray<string | null>;
}

export interface TransitionOptions {
  /** Extra edges back and forth before the wire settles (a mechanical contact chattering). */
  bounces?: number;
  /** Time between those edges, ms. */
  bounceMs?: number;
}

export interface PulseOptions extends TransitionOptions {
  /** How long each pulse holds the wire away from its rest level, ms. */
  activeMs?: number;
  /** How long the wire rests between pulses, ms. */
  restMs?: number;
}

type RawListener = (high: boolean) => void;

interface SimulatedWire {
  /** What the outside world drives onto the wire (a contact, a rain gauge); the level when no output drives it. */
  external: boolean;
  /** What our own output drives, while the line is held as an output. */
  driven: boolean | undefined;
  heldAs: 'input' | 'output' | undefined;
  writes: boolean[];
  fault: string | null;
  readonly watchers: Set<RawListener>;
}

function numberedNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, offset) => `${prefix}${offset}`);
}

/**
 * In-process GPIO chips for tests and the demo: inputs are driven from outside (setInput, pulse, with optional
 * contact bounce), outputs are observable (output, writes), and a line can be given a fault. Levels here are
 * physical (true = the wire is high); the backend applies activeLow as real hardware would need.
 */
export class SimulatedGpio {
  private readonly chipSpecs: SimulatedChipSpec[];
  private readonly wires = new Map<string, SimulatedWire>();

  /** A Raspberry Pi 4: gpiochip0 "pinctrl-bcm2711" with GPIO0..GPIO57, and the firmware expander. */
  static raspberryPi4(): SimulatedGpio {
    return new SimulatedGpio([
      { name: 'gpiochip0', label: 'pinctrl-bcm2711', lineNames: numberedNames('GPIO', 58) },
      {
        name: 'gpiochip1',
        label: 'raspberrypi-exp-gpio',
        lineNames: ['BT_ON', 'WL_ON', 'PWR_LED_OFF', 'GLOBAL_RESET', 'VDD_SD_IO_SEL', 'CAM_GPIO', 'SD_PWR_ON', null],
      },
    ]);
  }

  /** A Raspberry Pi 5: the header is on the RP1 ("pinctrl-rp1", GPIO0..GPIO53), beside the SoC's own chips. */
  static raspberryPi5(): SimulatedGpio {
    return new SimulatedGpio([
      { name: 'gpiochip0', label: 'pinctrl-rp1', lineNames: numberedNames('GPIO', 54) },
      { name: 'gpiochip10', label: 'gpio-brcmstb@107d508500', lineNames: Array.from({ length: 32 }, () => null) },
      { name: 'gpiochip11', label: 'gpio-brcmstb@107d508520', lineNames: Array.from({ length: 4 }, () => null) },
      { name: 'gpiochip12', label: 'gpio-brcmstb@107d517c00', lineNames: Array.from({ length: 17 }, () => null) },
      { name: 'gpiochip13', label: 'gpio-brcmstb@107d517c20', lineNames: Array.from({ length: 6 }, () => null) },
    ]);
  }

  constructor(chips?: readonly SimulatedChipSpec[]) {
    this.chipSpecs = chips ? chips.map((chip) => ({ ...chip })) : SimulatedGpio.raspberryPi4().chipSpecs;
  }

  chips(): GpioChipInfo[] {
    return this.chipSpecs.map((chip) => ({
      name: chip.name,
      label: chip.label,
      lineCount: chip.lineNames.length,
      lineNames: chip.lineNames,
    }));
  }

  /** Sets what the outside world drives onto an input wire, at once and cleanly. Chip by name or label. */
  setInput(chip: string, offset: number, high: boolean): void {
    const wire = this.wire(chip, offset);
    if (wire.external === high) return;
    wire.external = high;
    if (wire.driven === undefined) this.notify(wire);
  }

  /** Moves an input wire to `high`, chattering `bounces` times first, as a real contact does. */
  async transition(chip: string, offset: number, high: boolean, options: TransitionOptions = {}): Promise<void> {
    const bounceMs = options.bounceMs ?? 1;
    this.setInput(chip, offset, high);
    for (let bounce = 0; bounce < (options.bounces ?? 0); bounce += 1) {
      await sleep(bounceMs);
      this.setInput(chip, offset, !high);
      await sleep(bounceMs);
      this.setInput(chip, offset, high);
    }
  }

  /** `count` pulses away from the wire's current rest level and back (a rain-gauge tip closes a reed switch once). */
  async pulse(chip: string, offset: number, count: number, options: PulseOptions = {}): Promise<void> {
    const rest = this.wire(chip, offset).external;
    for (let pulse = 0; pulse < count; pulse += 1) {
      await this.transition(chip, offset, !rest, options);
      await sleep(options.activeMs ?? 100);
      await this.transition(chip, offset, rest, options);
      await sleep(options.restMs ?? 100);
    }
  }

  /** The level on the wire now: what our output drives, else what the outside drives. */
  level(chip: string, offset: number): boolean {
    const wire = this.wire(chip, offset);
    return wire.driven ?? wire.external;
  }

  /** The physical level our output drives, or undefined while no output holds the line (released). */
  output(chip: string, offset: number): boolean | undefined {
    return this.wire(chip, offset).driven;
  }

  /** Every physical level our outputs drove onto this line, in order (the initial level first). */
  writes(chip: string, offset: number): boolean[] {
    return [...this.wire(chip, offset).writes];
  }

  isHeld(chip: string, offset: number): boolean {
    return this.wire(chip, offset).heldAs !== undefined;
  }

  /** While set, requests and writes on the line fail with this message and an open input reports it. */
  setFault(chip: string, offset: number, message: string | null): void {
    this.wire(chip, offset).fault = message;
  }

  /** For the backend: takes the line, as the kernel would (busy lines and faults refuse). */
  request(chip: string, offset: number, as: 'input' | 'output'): void {
    const wire = this.wire(chip, offset);
    if (wire.fault !== null) throw new Error(wire.fault);
    if (wire.heldAs !== undefined) throw new Error(`line busy: ${chip} offset ${offset} is already requested as ${wire.heldAs}`);
    wire.heldAs = as;
  }

  /** For the backend: drives a held output line. */
  drive(chip: string, offset: number, high: boolean): void {
    const wire = this.wire(chip, offset);
    if (wire.fault !== null) throw new Error(wire.fault);
    if (wire.heldAs !== 'output') throw new Error(`${chip} offset ${offset} is not held as an output`);
    const before = wire.driven ?? wire.external;
    wire.driven = high;
    wire.writes.push(high);
    if (before !== high) this.notify(wire);
  }

  /** For the backend: gives the line back; a released output stops driving the wire. */
  free(chip: string, offset: number): void {
    const wire = this.wire(chip, offset);
    const before = wire.driven ?? wire.external;
    wire.heldAs = undefined;
    wire.driven = undefined;
    if (before !== wire.external) this.notify(wire);
  }

  fault(chip: string, offset: number): string | null {
    return this.wire(chip, offset).fault;
  }

  /** For the backend: raw level changes on the wire. */
  watch(chip: string, offset: number, listener: RawListener): () => void {
    const wire = this.wire(chip, offset);
    wire.watchers.add(listener);
    return () => wire.watchers.delete(listener);
  }

  private notify(wire: SimulatedWire): void {
    const level = wire.driven ?? wire.external;
    for (const watcher of [...wire.watchers]) watcher(level);
  }

  private wire(chipId: string, offset: number): SimulatedWire {
    const chip = this.chipSpecs.find((spec) => spec.name === chipId || spec.label === chipId);
    if (!chip) throw new Error(`no simulated GPIO chip "${chipId}"; chips: ${chipsSummary(this.chips())}`);
    if (!Number.isInteger(offset) || offset < 0 || offset >= chip.lineNames.length) {
      throw new Error(`offset ${offset} is out of range on simulated ${chip.name} (0–${chip.lineNames.length - 1})`);
    }
    const key = `${chip.name}:${offset}`;
    let wire = this.wires.get(key);
    if (!wire) {
      wire = { external: false, driven: undefined, heldAs: undefined, writes: [], fault: null, watchers: new Set() };
      this.wires.set(key, wire);
    }
    return wire;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The simulated chips as a GpioBackend, with the same resolution rules and debouncing as the real backends. */
export function createSimulatedBackend(sim: SimulatedGpio, now: () => number = () => performance.now()): GpioBackend {
  const open = new Set<{ release(): Promise<void> }>();
  const where = 'the simulated GPIO';
  const resolve = async (line: GpioLine): Promise<ResolvedGpioLine> => resolveLine(sim.chips(), line, where);

  return {
    kind: 'simulated',
    description: `simulated (in-process chips: ${sim.chips().map((chip) => chip.label).join(', ')})`,
    resolve,

    async openOutput(line, initial) {
      const at = await resolve(line);
      sim.request(at.chipName, at.offset, 'output');
      let state = initial;
      let released = false;
      try {
        sim.drive(at.chipName, at.offset, physicalLevel(initial, line.activeLow));
      } catch (error) {
        sim.free(at.chipName, at.offset);
        throw error;
      }
      const output: GpioOutputLine = {
        async write(on) {
          if (released) throw new Error(`${at.text} was released`);
          sim.drive(at.chipName, at.offset, physicalLevel(on, line.activeLow));
          state = on;
        },
        read: () => state,
        failure: () => (released ? 'released' : sim.fault(at.chipName, at.offset)),
        async release() {
          if (released) return;
          released = true;
          open.delete(output);
          sim.free(at.chipName, at.offset);
        },
      };
      open.add(output);
      return output;
    },

    async openInput(line, options: GpioInputOptions) {
      const at = await resolve(line);
      sim.request(at.chipName, at.offset, 'input');
      const debouncer = new LevelDebouncer(logicalLevel(sim.level(at.chipName, at.offset), line.activeLow), options.debounceMs, now);
      const unwatch = sim.watch(at.chipName, at.offset, (high) => debouncer.feed(logicalLevel(high, line.activeLow)));
      let released = false;
      const input: GpioInputLine = {
        read: () => debouncer.level(),
        onChange: (listener) => debouncer.onChange(listener),
        edges: () => debouncer.edges(),
        failure: () => (released ? 'released' : sim.fault(at.chipName, at.offset)),
        async release() {
          if (released) return;
          released = true;
          open.delete(input);
          unwatch();
          debouncer.dispose();
          sim.free(at.chipName, at.offset);
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
