import { performance } from 'node:perf_hooks';
import { LevelDebouncer } from './debouncer.js';
import {
  chipCatalog,
  gpiogetArgs,
  gpioinfoArgs,
  gpiomonArgs,
  gpiosetArgs,
  isBanner,
  ownConsumer,
  parseGpiodetect,
  parseGpiodVersion,
  parseGpiogetLevel,
  parseGpioinfo,
  parseGpiomonEvent,
  type GpiodVersion,
} from './gpiod-dialect.js';
import {
  createGpiodTools,
  describeExit,
  findParentDeathWrapper,
  locateGpiodTools,
  type GpiodToolName,
  type GpiodTools,
  type HeldTool,
} from './gpiod-process.js';
import { resolveLine, type GpioChipInfo } from './line-catalog.js';
import {
  logicalLevel,
  physicalLevel,
  type GpioBackend,
  type GpioBias,
  type GpioInputLine,
  type GpioLine,
  type GpioOutputLine,
  type ResolvedGpioLine,
} from './types.js';

export interface ChardevBackendOptions {
  /** Folder holding the libgpiod tools; default: found on PATH. */
  toolsDir?: string;
  now?: () => number;
  /** How long a tool may take to request its line before the open fails. */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const V1_POLL_MS = 20;

/**
 * GPIO through the kernel's character device, with the libgpiod command-line tools as child processes: one
 * gpioset per output line holds it at its level, one gpiomon per input line reports its edges. A line requested
 * this way is released when its process ends — on release(), and also when the agent dies (the tools run under
 * `setpriv --pdeathsig`). Released lines are not driven: wire relays so that released is the safe state.
 * Changing an output's level restarts its gpioset, so for those milliseconds the line is released too.
 */
export async function createChardevBackend(options: ChardevBackendOptions = {}): Promise<GpioBackend> {
  const located = await locateGpiodTools(options.toolsDir);
  if (located.missing.length > 0) {
    throw new Error(
      `the libgpiod tools are not installed (missing ${located.missing.join(', ')}` +
        `${options.toolsDir ? ` in ${options.toolsDir}` : ' on PATH'}); on Raspberry Pi OS or Debian: sudo apt install gpiod`,
    );
  }
  const tools = createGpiodTools(located.paths as Record<GpiodToolName, string>, await findParentDeathWrapper());
  const version = parseGpiodVersion(await tools.run('gpioset', ['--version']));
  const chips: GpioChipInfo[] = chipCatalog(
    parseGpiodetect(await tools.run('gpiodetect', [])),
    parseGpioinfo(await tools.run('gpioinfo', [])),
  );
  const context: ChardevContext = {
    tools,
    version,
    now: options.now ?? (() => performance.now()),
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const where = 'the GPIO character device';
  const open = new Set<{ release(): Promise<void> }>();
  const resolve = async (line: GpioLine): Promise<ResolvedGpioLine> => resolveLine(chips, line, where);

  return {
    kind: 'chardev',
    description: `chardev (libgpiod ${version.text} tools${tools.paths.gpioset.includes('/') ? ` in ${dirOf(tools.paths.gpioset)}` : ''})`,
    resolve,
    async openOutput(line, initial) {
      const output = await ChardevOutputLine.open(context, await resolve(line), line.activeLow, initial, (self) => open.delete(self));
      open.add(output);
      return output;
    },
    async openInput(line, inputOptions) {
      const input = await ChardevInputLine.open(context, await resolve(line), line.activeLow, inputOptions.debounceMs, inputOptions.bias ?? 'as-is', (self) =>
        open.delete(self),
      );
      open.add(input);
      return input;
    },
    async close() {
      await Promise.all([...open].map((line) => line.release()));
    },
  };
}

interface ChardevContext {
  tools: GpiodTools;
  version: GpiodVersion;
  now: () => number;
  requestTimeoutMs: number;
}

/**
 * Starts a tool that requests one line and resolves once the line is really held: v2 says so with its banner;
 * v1 says nothing, so gpioinfo is asked until it shows the line held by that tool in the expected direction.
 */
async function takeLine(
  context: ChardevContext,
  tool: 'gpioset' | 'gpiomon',
  args: string[],
  at: ResolvedGpioLine,
  onLine?: (line: string) => void,
): Promise<HeldTool> {
  const held = context.tools.start(tool, args);
  let settled = false;
  const bannerSeen = new Promise<'ready'>((resolve) => {
    held.onLine((line) => {
      if (isBanner(line)) resolve('ready');
      onLine?.(line);
    });
  });
  const ready = context.version.major === 2 ? bannerSeen : heldPerGpioinfo(context, tool, at, () => settled || !held.running());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), context.requestTimeoutMs);
  });
  const outcome = await Promise.race([ready, held.exited, timeout]);
  settled = true;
  clearTimeout(timer);
  if (outcome === 'ready') {
    if (held.running()) return held;
    // v1: gpioinfo showed the line held by a tool of that name, but ours had failed: another process holds it.
    throw new Error(`cannot take ${at.text}: ${describeExit(tool, await held.exited)}`);
  }
  if (outcome === 'timeout') {
    await held.stop();
    throw new Error(`${tool} did not take ${at.text} within ${context.requestTimeoutMs} ms`);
  }
  throw new Error(`cannot take ${at.text}: ${describeExit(tool, outcome)}`);
}

async function heldPerGpioinfo(
  context: ChardevContext,
  tool: 'gpioset' | 'gpiomon',
  at: ResolvedGpioLine,
  abandoned: () => boolean,
): Promise<'ready'> {
  const consumer = ownConsumer(context.version, tool);
  const direction = tool === 'gpioset' ? 'output' : 'input';
  for (;;) {
    if (abandoned()) return new Promise<never>(() => {});
    try {
      const info = parseGpioinfo(await context.tools.run('gpioinfo', gpioinfoArgs(context.version, at.chipName)));
      const line = info[0]?.lines.find((candidate) => candidate.offset === at.offset);
      if (line && line.consumer === consumer && line.direction === direction) return 'ready';
    } catch {
      // gpioinfo can fail for a moment while the chip is busy; the timeout bounds the wait
    }
    await new Promise((resolve) => setTimeout(resolve, V1_POLL_MS));
  }
}

class ChardevOutputLine implements GpioOutputLine {
  private holder: HeldTool | undefined;
  private readonly stopping = new WeakSet<HeldTool>();
  private lost: string | null = null;
  private released = false;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly context: ChardevContext,
    private readonly at: ResolvedGpioLine,
    private readonly activeLow: boolean,
    private state: boolean,
    private readonly onRelease: (self: ChardevOutputLine) => void,
  ) {}

  static async open(
    context: ChardevContext,
    at: ResolvedGpioLine,
    activeLow: boolean,
    initial: boolean,
    onRelease: (self: ChardevOutputLine) => void,
  ): Promise<ChardevOutputLine> {
    const line = new ChardevOutputLine(context, at, activeLow, initial, onRelease);
    await line.hold(initial);
    return line;
  }

  write(on: boolean): Promise<void> {
    const next = this.queue.then(() => this.apply(on));
    this.queue = next.catch(() => {});
    return next;
  }

  read(): boolean {
    return this.state;
  }

  failure(): string | null {
    return this.released ? 'released' : this.lost;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
    await this.queue;
    await this.drop();
  }

  private async apply(on: boolean): Promise<void> {
    if (this.released) throw new Error(`${this.at.text} was released`);
    if (on === this.state && this.holder?.running()) return;
    await this.drop();
    await this.hold(on);
  }

  private async hold(on: boolean): Promise<void> {
    const args = gpiosetArgs(this.context.version, this.at.chipName, this.at.offset, physicalLevel(on, this.activeLow));
    const holder = await takeLine(this.context, 'gpioset', args, this.at);
    this.holder = holder;
    this.state = on;
    this.lost = null;
    void holder.exited.then((exit) => {
      if (!this.stopping.has(holder)) this.lost = `${describeExit('gpioset', exit)}; ${this.at.text} is released`;
    });
  }

  private async drop(): Promise<void> {
    const holder = this.holder;
    this.holder = undefined;
    if (!holder) return;
    this.stopping.add(holder);
    await holder.stop();
  }
}

class ChardevInputLine implements GpioInputLine {
  private monitor: HeldTool | undefined;
  private lost: string | null = null;
  private released = false;

  private constructor(
    private readonly at: ResolvedGpioLine,
    private readonly debouncer: LevelDebouncer,
    private readonly onRelease: (self: ChardevInputLine) => void,
  ) {}

  static async open(
    context: ChardevContext,
    at: ResolvedGpioLine,
    activeLow: boolean,
    debounceMs: number,
    bias: GpioBias,
    onRelease: (self: ChardevInputLine) => void,
  ): Promise<ChardevInputLine> {
    // The starting level comes from gpioget, just before gpiomon takes the line; from then on every edge says
    // which way the wire went. An edge in the instant between the two is only seen at the next edge.
    const initial = parseGpiogetLevel(await context.tools.run('gpioget', gpiogetArgs(context.version, at.chipName, at.offset, bias)));
    const debouncer = new LevelDebouncer(logicalLevel(initial, activeLow), debounceMs, context.now);
    const line = new ChardevInputLine(at, debouncer, onRelease);
    const monitor = await takeLine(context, 'gpiomon', gpiomonArgs(context.version, at.chipName, at.offset, bias), at, (text) => {
      const event = parseGpiomonEvent(text, context.version);
      if (event && event.offset === at.offset) debouncer.feed(logicalLevel(event.rising, activeLow));
    });
    line.monitor = monitor;
    void monitor.exited.then((exit) => {
      if (!line.released) line.lost = `${describeExit('gpiomon', exit)}; changes of ${at.text} are no longer seen`;
    });
    return line;
  }

  read(): boolean {
    return this.debouncer.level();
  }

  onChange(listener: (on: boolean, monoTs: number) => void): () => void {
    return this.debouncer.onChange(listener);
  }

  edges(): number {
    return this.debouncer.edges();
  }

  failure(): string | null {
    return this.released ? 'released' : this.lost;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
    this.debouncer.dispose();
    await this.monitor?.stop();
  }
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}
