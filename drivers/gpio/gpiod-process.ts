import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

export type GpiodToolName = 'gpiodetect' | 'gpioinfo' | 'gpioget' | 'gpioset' | 'gpiomon';
export const GPIOD_TOOL_NAMES: readonly GpiodToolName[] = ['gpiodetect', 'gpioinfo', 'gpioget', 'gpioset', 'gpiomon'];

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of what the tool wrote to stderr (its error message). */
  stderr: string;
}

/** A tool that keeps running while it holds a line (gpioset, gpiomon). */
export interface HeldTool {
  readonly pid: number | undefined;
  onLine(listener: (line: string) => void): void;
  readonly exited: Promise<ToolExit>;
  running(): boolean;
  /** Ends it (SIGTERM, then SIGKILL if it lingers) and waits until it is gone. */
  stop(): Promise<void>;
}

export interface GpiodTools {
  /** Where each tool was found. */
  readonly paths: Readonly<Record<GpiodToolName, string>>;
  /** Runs a tool to completion; resolves with stdout, rejects with its stderr message. */
  run(tool: GpiodToolName, args: readonly string[]): Promise<string>;
  start(tool: GpiodToolName, args: readonly string[]): HeldTool;
}

const RUN_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const STDERR_KEEP = 4_096;

/** Finds the libgpiod tools in `dir`, or on PATH. Missing ones are listed, not thrown. */
export async function locateGpiodTools(
  dir?: string,
): Promise<{ paths: Partial<Record<GpiodToolName, string>>; missing: GpiodToolName[] }> {
  const searched = dir ? [dir] : (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const paths: Partial<Record<GpiodToolName, string>> = {};
  const missing: GpiodToolName[] = [];
  for (const tool of GPIOD_TOOL_NAMES) {
    const found = await firstExecutable(searched.map((folder) => join(folder, tool)));
    if (found) paths[tool] = found;
    else missing.push(tool);
  }
  return { paths, missing };
}

/**
 * setpriv (util-linux, on every Debian) can ask the kernel to send the tool SIGTERM when the agent dies. Without
 * it, a gpioset left behind by a crashed agent would keep a relay energised, and a gpiomon left behind would
 * keep the input busy so the restarted agent could not open it.
 */
export async function findParentDeathWrapper(): Promise<string | undefined> {
  const searched = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const setpriv = await firstExecutable(searched.map((folder) => join(folder, 'setpriv')));
  if (!setpriv) return undefined;
  const help = await new Promise<string>((resolve) => {
    execFile(setpriv, ['--help'], { timeout: RUN_TIMEOUT_MS }, (_error, stdout) => resolve(String(stdout)));
  });
  return help.includes('--pdeathsig') ? setpriv : undefined;
}

export function createGpiodTools(paths: Record<GpiodToolName, string>, parentDeathWrapper: string | undefined): GpiodTools {
  return {
    paths,
    run(tool, args) {
      return new Promise((resolve, reject) => {
        execFile(paths[tool], [...args], { timeout: RUN_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
          if (error) {
            const message = String(stderr).trim() || error.message;
            reject(new Error(`${tool} ${args.join(' ')}: ${message}`));
            return;
          }
          resolve(String(stdout));
        });
      });
    },
    start(tool, args) {
      const [command, argv] = parentDeathWrapper
        ? [parentDeathWrapper, ['--pdeathsig', 'TERM', '--', paths[tool], ...args]]
        : [paths[tool], [...args]];
      return startHeld(command, argv);
    },
  };
}

function startHeld(command: string, args: string[]): HeldTool {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let done = false;
  const lineListeners: Array<(line: string) => void> = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    for (const listener of lineListeners) listener(line);
  });
  const exited = new Promise<ToolExit>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = ''): void => {
      if (done) return;
      done = true;
      resolve({ code, signal, stderr: (stderr + extra).trim() });
    };
    child.once('error', (error) => finish(null, null, error.message));
    child.once('close', (code, signal) => finish(code, signal));
  });

  return {
    pid: child.pid,
    onLine(listener) {
      lineListeners.push(listener);
    },
    exited,
    running: () => !done,
    async stop() {
      if (done) return;
      child.kill('SIGTERM');
      const grace = new Promise<'lingering'>((resolve) => setTimeout(() => resolve('lingering'), STOP_GRACE_MS).unref());
      if ((await Promise.race([exited, grace])) === 'lingering') child.kill('SIGKILL');
      await exited;
    },
  };
}

async function firstExecutable(candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next folder
    }
  }
  return undefined;
}

/** "exited with code 1: gpioset: unable to request lines: Device or resource busy". */
export function describeExit(tool: string, exit: ToolExit): string {
  const how = exit.signal ? `was ended by ${exit.signal}` : `exited with code ${exit.code ?? '?'}`;
  return `${tool} ${how}${exit.stderr ? `: ${exit.stderr}` : ''}`;
}
