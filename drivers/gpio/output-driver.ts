import type { GpioBackend, GpioLine, GpioOutputLine } from './types.js';

export type GpioWriteResult = { ok: true } | { ok: false; error: string };

/** A relay on a GPIO line, in the shape of the safety outputs' OutputDriver (agent/safety/outputs). */
export interface GpioOutputDriver {
  readonly description: string;
  /** Never rejects: a failure is { ok: false } with the reason. */
  write(on: boolean): Promise<GpioWriteResult>;
  /** Gives the line back (released = not driven: wire the relay so that is its safe state). */
  release(): Promise<void>;
}

/**
 * The line is requested on the first write, with that write's level as its initial level: creating the driver
 * never drives a relay to a level the safety logic has not chosen. Until then, and after a failed open, the line
 * is released. A line that was lost (e.g. its holding process died) is opened again on the next write.
 */
export async function gpioOutputDriver(backend: GpioBackend, line: GpioLine, description: string): Promise<GpioOutputDriver> {
  let output: GpioOutputLine | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let released = false;

  const failed = (error: unknown): GpioWriteResult => ({
    ok: false,
    error: `${description}: ${error instanceof Error ? error.message : String(error)}`,
  });

  const apply = async (on: boolean): Promise<GpioWriteResult> => {
    if (released) return { ok: false, error: `${description}: the GPIO line was released` };
    try {
      const lost = output?.failure() ?? null;
      if (output && lost !== null) {
        const broken = output;
        output = undefined;
        await broken.release().catch(() => {});
      }
      if (!output) {
        output = await backend.openOutput(line, on);
        return { ok: true };
      }
      await output.write(on);
      return { ok: true };
    } catch (error) {
      return failed(error);
    }
  };

  return {
    description,
    write(on) {
      // One write at a time: on the character device a write restarts a process, and two must not interleave.
      const result = queue.then(() => apply(on));
      queue = result;
      return result;
    },
    async release() {
      released = true;
      await queue;
      const current = output;
      output = undefined;
      await current?.release();
    },
  };
}
