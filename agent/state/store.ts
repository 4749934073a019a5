import { open, readFile, rename, mkdir } from 'node:fs/promises';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../log/index.js';

/**
 * Long-running state that must survive a restart (alarm latches, baselines, output states and overrides,
 * counters): one small JSON document, written atomically (temp file, fsync, rename, fsync of the folder) and
 * never on the safety path — callers mark it dirty; a timer writes at most every `minIntervalMs`.
 * A damaged file is moved aside and reported, and the agent starts from defaults: it never refuses to run.
 */
export type StateSections = Record<string, unknown>;

export interface LoadedState {
  sections: StateSections;
  /** Set when the file existed but could not be read: where the damaged copy was moved, and why. */
  damaged?: { movedTo: string; error: string };
}

const FORMAT_VERSION = 1;

interface StateFile {
  version: number;
  savedAtWall: number;
  sections: StateSections;
}

/** Reads the state file synchronously: it runs once at start, before anything polls. */
export function loadState(file: string): LoadedState {
  if (!existsSync(file)) return { sections: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StateFile>;
    if (parsed.version !== FORMAT_VERSION || typeof parsed.sections !== 'object' || parsed.sections === null) {
      throw new Error(`unexpected format (version ${String(parsed.version)})`);
    }
    return { sections: parsed.sections };
  } catch (error) {
    let movedTo = `${file}.damaged-${Date.now()}`;
    try {
      renameSync(file, movedTo);
    } catch (renameError) {
      // A read-only or full disk must not stop the agent: run from defaults, leave the file where it is.
      movedTo = `(left in place: ${(renameError as Error).message})`;
    }
    return { sections: {}, damaged: { movedTo, error: (error as Error).message } };
  }
}

export class StateStore {
  private readonly providers = new Map<string, () => unknown>();
  private dirty = false;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  writes = 0;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
    private readonly minIntervalMs = 1000,
    /** Fault injection for benchmarks and tests: every commit takes this much longer (a dying SD card). */
    private readonly commitDelayMs = 0,
  ) {}

  /** Registers a section; `snapshot` is called at write time, so the newest state is what gets written. */
  section(name: string, snapshot: () => unknown): void {
    this.providers.set(name, snapshot);
  }

  /** Cheap and synchronous: safe to call from the safety loop on every change. */
  markDirty(): void {
    this.dirty = true;
    if (!this.timer && !this.writing) {
      this.timer = setTimeout(() => void this.flush(), this.minIntervalMs);
      this.timer.unref();
    }
  }

  get healthy(): boolean {
    return this.lastError === undefined;
  }

  /** Writes now if anything changed; resolves when it is on disk. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.write().finally(() => {
      this.writing = undefined;
      if (this.dirty) this.markDirty();
    });
    await this.writing;
  }

  private async write(): Promise<void> {
    const sections: StateSections = {};
    for (const [name, snapshot] of this.providers) sections[name] = snapshot();
    const body: StateFile = { version: FORMAT_VERSION, savedAtWall: Date.now(), sections };
    const temp = `${this.file}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      const handle = await open(temp, 'w', 0o640);
      try {
        await handle.writeFile(JSON.stringify(body));
        await handle.sync();
        if (this.commitDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.commitDelayMs));
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
      const dir = await open(dirname(this.file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.writes++;
      if (this.lastError) this.logger.info({ file: this.file }, 'state file writable again');
      this.lastError = undefined;
    } catch (error) {
      // A full or read-only disk must not stop the safety loop: keep the state in memory and try again later.
      this.dirty = true;
      const message = (error as Error).message;
      if (message !== this.lastError) this.logger.error({ file: this.file, err: error }, 'cannot write state file');
      this.lastError = message;
    }
  }
}

export function stateFile(dataDir: string): string {
  return join(dataDir, 'state.json');
}

/** For tests and tools: the raw document as last written. */
export async function readStateFile(file: string): Promise<StateFile> {
  return JSON.parse(await readFile(file, 'utf8')) as StateFile;
}
