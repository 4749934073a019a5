import { closeSync, fdatasyncSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const ZERO_PAGE = Buffer.alloc(4096);

/**
 * The writer thread's disk calls, synchronous (the thread has nothing else to do) and in one place so a test
 * can make them fail (ENOSPC) or stall (a dying SD card) through a SharedArrayBuffer, without mocks.
 */
export class Io {
  private readonly control: Int32Array | null;
  syncs = 0;

  constructor(control: SharedArrayBuffer | undefined) {
    this.control = control ? new Int32Array(control) : null;
  }

  private check(): void {
    if (this.control && Atomics.load(this.control, 1) !== 0) {
      throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
    }
  }

  private stall(): void {
    if (!this.control) return;
    while (Atomics.load(this.control, 0) !== 0) Atomics.wait(this.control, 0, Atomics.load(this.control, 0), 50);
  }

  /** Writes all of `buf` at `position` (positional: a failed write never shifts later ones). */
  write(fd: number, buf: Uint8Array, position: number): void {
    this.check();
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
  }

  /**
   * Zeros [from, to), one 4 KiB page per write: a single large write lets the kernel cache the range as large
   * folios, and a later small write then dirties (and /proc/<pid>/io counts) a whole folio instead of a page.
   */
  writeZeros(fd: number, from: number, to: number): void {
    for (let at = from; at < to; at += ZERO_PAGE.length) this.write(fd, ZERO_PAGE.subarray(0, Math.min(ZERO_PAGE.length, to - at)), at);
  }

  datasync(fd: number): void {
    this.stall();
    fdatasyncSync(fd);
    this.syncs++;
  }

  syncDir(path: string): void {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Temp file, fsync, rename over, fsync of the folder: the file is either the old or the new one. */
  writeAtomic(path: string, data: Uint8Array): void {
    const temp = `${path}.tmp`;
    const fd = openSync(temp, 'w', 0o640);
    try {
      this.write(fd, data, 0);
      this.stall();
      fsyncSync(fd);
      this.syncs++;
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    this.syncDir(dirname(path));
  }
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
