import { readSync, writeSync } from 'node:fs';

/**
 * The shape of serialport's Linux/macOS port binding this module relies on (@serialport/bindings-cpp 13, pinned):
 * a non-blocking file descriptor, and a poller whose `once('readable' | 'writable')` arms one wait.
 */
interface UnixPortBinding {
  fd: number | null;
  readonly isOpen: boolean;
  poller: {
    once(event: 'readable' | 'writable', listener: (error: Error | null) => void): unknown;
    /** Arms libuv's poll for these events (READABLE | WRITABLE). */
    poll(events: number): void;
  };
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>;
  write(buffer: Buffer): Promise<void>;
  /** What `drain()` waits for: the write in progress, or null. */
  writeOperation: Promise<void> | null;
}

/**
 * Errors that mean the device is gone: serialport's own list (EBADF, ENXIO, UNKNOWN) and EIO, what a pty or tty
 * whose far end vanished returns. Its stream closes the port on any read or write error that was not a cancel;
 * the flag only names the cause.
 */
const DISCONNECT_CODES = new Set(['EBADF', 'ENXIO', 'EIO', 'UNKNOWN']);
/** libuv's poll events, as the binding's poller takes them. */
const READABLE = 1;
const WRITABLE = 2;
/** Not an error on a non-blocking descriptor: wait for the poller, then try again. */
const TRY_AGAIN_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
/** A tty that keeps reading end-of-file has been hung up (an adapter pulled out); serialport would spin on it. */
const EOF_READS_BEFORE_HANGUP = 3;

function isUnixPortBinding(value: unknown): value is UnixPortBinding {
  const binding = value as Partial<UnixPortBinding> | null;
  return (
    typeof binding === 'object' &&
    binding !== null &&
    typeof binding.fd === 'number' &&
    typeof binding.read === 'function' &&
    typeof binding.write === 'function' &&
    typeof binding.poller === 'object' &&
    binding.poller !== null &&
    typeof binding.poller.once === 'function' &&
    typeof binding.poller.poll === 'function'
  );
}

function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

/** The descriptor, or a cancel when the port was closed meanwhile (serialport's stream ignores a cancel). */
function openDescriptor(binding: UnixPortBinding): number {
  if (!binding.isOpen || binding.fd === null) throw canceled();
  return binding.fd;
}

/** Whether a failed read or write should wait and try again; otherwise marks a disconnect and says no. */
function shouldRetry(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (TRY_AGAIN_CODES.has(code)) return true;
  if (DISCONNECT_CODES.has(code)) Object.assign(error as Error, { disconnect: true });
  return false;
}

/**
 * serialport reads and writes a port through libuv's thread pool. A read that finds nothing fails with EAGAIN,
 * then the poller waits, then another pooled read fetches the bytes: three wake-ups of the event loop and two
 * hand-offs between threads for every chunk the adapter delivers. Every request frame costs one more hand-off
 * and wake-up to be written. On a quiet 1 Hz site that was most of the agent's CPU.
 *
 * The descriptor is non-blocking, so both can be done in place: a read once the poller says there is input (one
 * wake-up per chunk), a write at once (a Modbus frame fits the tty's buffer; if it does not, the poller says when
 * there is room). Neither blocks the event loop.
 *
 * Installed on an open port's binding (`SerialPort#port`) before anything reads or writes; a binding of another
 * shape (another platform, the mock) is left as it is. Returns whether it was installed.
 */
export function ioInPlace(binding: unknown): boolean {
  if (!isUnixPortBinding(binding)) return false;
  let endOfFileReads = 0;
  let waitingFor = 0;

  const ready = (event: 'readable' | 'writable'): Promise<void> =>
    new Promise((resolve, reject) => {
      const flag = event === 'readable' ? READABLE : WRITABLE;
      waitingFor |= flag;
      binding.poller.once(event, (error) => {
        waitingFor &= ~flag;
        if (error) reject(error);
        else resolve();
      });
      // The poller arms libuv for the one event just asked for, dropping a wait for the other: a write waiting
      // for room would be forgotten as soon as the stream asks for input again, and on a silent line nothing
      // would bring it back. Waiting for both, arm both.
      if (waitingFor === (READABLE | WRITABLE)) binding.poller.poll(waitingFor);
    });

  binding.read = async (buffer: Buffer, offset: number, length: number) => {
    for (;;) {
      openDescriptor(binding);
      await ready('readable');
      let bytesRead: number;
      try {
        bytesRead = readSync(openDescriptor(binding), buffer, offset, length, null);
      } catch (error) {
        if (shouldRetry(error)) continue;
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

  const writeAll = async (buffer: Buffer): Promise<void> => {
    let written = 0;
    while (written < buffer.length) {
      try {
        written += writeSync(openDescriptor(binding), buffer, written, buffer.length - written);
      } catch (error) {
        if (!shouldRetry(error)) throw error;
        await ready('writable');
      }
    }
  };

  // The stream writes one chunk at a time; writeOperation is kept as serialport keeps it, for drain().
  binding.write = (buffer: Buffer) => {
    const operation = writeAll(buffer).finally(() => {
      if (binding.writeOperation === operation) binding.writeOperation = null;
    });
    binding.writeOperation = operation;
    return operation;
  };
  return true;
}
