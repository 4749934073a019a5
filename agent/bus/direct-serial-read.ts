import { readSync } from 'node:fs';

/**
 * The shape of serialport's Linux/macOS port binding this module relies on (@serialport/bindings-cpp 13, pinned):
 * a non-blocking file descriptor, and a poller whose `once('readable')` arms one wait for input.
 */
interface UnixPortBinding {
  fd: number | null;
  readonly isOpen: boolean;
  poller: { once(event: 'readable', listener: (error: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>;
}

/**
 * Errors that mean the device is gone: serialport's own list (EBADF, ENXIO, UNKNOWN) and EIO, what a pty or tty
 * whose far end vanished returns. Its stream closes the port on any read error that was not a cancel; the flag
 * only names the cause.
 */
const DISCONNECT_CODES = new Set(['EBADF', 'ENXIO', 'EIO', 'UNKNOWN']);
/** A tty that keeps reading end-of-file has been hung up (an adapter pulled out); serialport would spin on it. */
const EOF_READS_BEFORE_HANGUP = 3;

function isUnixPortBinding(value: unknown): value is UnixPortBinding {
  const binding = value as Partial<UnixPortBinding> | null;
  return (
    typeof binding === 'object' &&
    binding !== null &&
    typeof binding.fd === 'number' &&
    typeof binding.read === 'function' &&
    typeof binding.poller === 'object' &&
    binding.poller !== null &&
    typeof binding.poller.once === 'function'
  );
}

function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

function readable(binding: UnixPortBinding): Promise<void> {
  return new Promise((resolve, reject) => {
    binding.poller.once('readable', (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * serialport reads a port through libuv's thread pool: a read that finds nothing fails with EAGAIN, then the
 * poller waits, then another pooled read fetches the bytes. That is three wake-ups of the event loop and two
 * hand-offs between threads for every chunk the adapter delivers, most of the agent's CPU on a quiet 1 Hz site.
 * The descriptor is non-blocking, so the same read can be done in place once the poller says there is input: one
 * wake-up per chunk, and a read that returns at once.
 *
 * Installed on an open port's binding (`SerialPort#port`); a binding of another shape (another platform, the
 * mock) is left as it is. Returns whether it was installed.
 */
export function readInPlace(binding: unknown): boolean {
  if (!isUnixPortBinding(binding)) return false;
  let endOfFileReads = 0;
  binding.read = async (buffer: Buffer, offset: number, length: number) => {
    for (;;) {
      if (!binding.isOpen || binding.fd === null) throw canceled();
      await readable(binding);
      if (!binding.isOpen || binding.fd === null) throw canceled();
      let bytesRead: number;
      try {
        bytesRead = readSync(binding.fd, buffer, offset, length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') continue;
        if (DISCONNECT_CODES.has(code)) Object.assign(error as Error, { disconnect: true });
        throw error;
      }
      if (bytesRead > 0) {
        endOfFileReads = 0;
        return { bytesRead, buffer };
      }
      if (++endOfFileReads >= EOF_READS_BEFORE_HANGUP) {
        throw Object.assign(new Error('the serial port reads end-of-file: hung up'), { code: 'EIO', disconnect: true });
      }
    }
  };
  return true;
}
