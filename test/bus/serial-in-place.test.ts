import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialPort } from 'serialport';
import { ioInPlace } from '../../agent/bus/serial-in-place.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { until } from '../support/until.js';

let pair: PtyPair | undefined;
const ports: SerialPort[] = [];

afterEach(async () => {
  for (const port of ports.splice(0)) if (port.isOpen) await new Promise((resolve) => port.close(resolve));
  await pair?.stop();
  pair = undefined;
});

/** Opens a port with in-place reads and writes installed as SerialLink installs them (before any I/O). */
async function openPort(path: string, install = true): Promise<{ port: SerialPort; installed: boolean }> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  ports.push(port);
  let installed = false;
  if (install) port.once('open', () => (installed = ioInPlace((port as unknown as { port?: unknown }).port)));
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  // Replaced on the binding itself, not left to serialport's own methods on its prototype.
  const binding = (port as unknown as { port: object }).port;
  if (installed && !(Object.hasOwn(binding, 'read') && Object.hasOwn(binding, 'write'))) installed = false;
  return { port, installed };
}

function writeTo(port: SerialPort, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => port.write(chunk, (error) => (error ? reject(error) : resolve())));
}

/** Everything `port` receives from now on, chunk by chunk. */
function collect(port: SerialPort): Buffer[] {
  const received: Buffer[] = [];
  port.on('data', (chunk: Buffer) => received.push(chunk));
  return received;
}

/** Waits (bounded, not timed) until `received` holds `length` bytes, and returns them. */
async function receivedBytes(received: Buffer[], length: number): Promise<Buffer> {
  await until(() => received.reduce((sum, chunk) => sum + chunk.length, 0) >= length, 20_000, `${length} bytes received`);
  return Buffer.concat(received);
}

describe('serial I/O in place (no thread-pool round trip)', () => {
  it('is installed on a real port, and every byte arrives in order across many chunks', async () => {
    pair = await startPtyPair();
    const { port: reader, installed } = await openPort(pair.a);
    const { port: writer } = await openPort(pair.b, false);
    expect(installed).toBe(true);
    const sent: Buffer[] = [];
    const received = collect(reader);
    for (let i = 0; i < 200; i++) {
      const chunk = randomBytes(1 + (i % 97));
      sent.push(chunk);
      await writeTo(writer, chunk);
      if (i % 10 === 0) await sleep(2);
    }
    const total = Buffer.concat(sent);
    expect((await receivedBytes(received, total.length)).equals(total)).toBe(true);
    expect(received.length).toBeGreaterThan(1);
  });

  it('a port whose other end vanishes closes as disconnected, as serialport reports it', async () => {
    pair = await startPtyPair();
    const { port, installed } = await openPort(pair.a);
    expect(installed).toBe(true);
    const closed = new Promise<Error | null>((resolve) => port.once('close', (error: Error | null) => resolve(error)));
    port.on('data', () => undefined);
    await pair.stop();
    pair = undefined;
    const error = await closed;
    expect((error as (Error & { disconnected?: boolean }) | null)?.disconnected).toBe(true);
  });

  it('writes in place: many frames arrive whole and in order, and a write larger than the tty buffer waits for room', async () => {
    pair = await startPtyPair();
    const { port: writer, installed } = await openPort(pair.a);
    const { port: reader } = await openPort(pair.b, false);
    expect(installed).toBe(true);
    const binding = (writer as unknown as { port: { poller: { once: (event: string, listener: unknown) => unknown } } }).port;
    let writableWaits = 0;
    const once = binding.poller.once.bind(binding.poller);
    binding.poller.once = (event: string, listener: unknown) => {
      if (event === 'writable') writableWaits++;
      return once(event, listener);
    };

    const frames = Array.from({ length: 200 }, (_, i) => randomBytes(8 + (i % 249)));
    for (const frame of frames) await writeTo(writer, frame);
    // Nobody reads the far end yet: socat stops taking bytes, the tty buffer fills and the write must wait.
    const large = randomBytes(512 * 1024);
    const largeWritten = writeTo(writer, large);
    await sleep(300);
    const received = collect(reader);
    await largeWritten;
    const total = Buffer.concat([...frames, large]);
    expect((await receivedBytes(received, total.length)).equals(total)).toBe(true);
    expect(writableWaits).toBeGreaterThan(0);
    await new Promise<void>((resolve, reject) => writer.drain((error) => (error ? reject(error) : resolve())));
  });

  it('a write to a port whose other end vanished fails, and the port closes', async () => {
    pair = await startPtyPair();
    const { port, installed } = await openPort(pair.a);
    expect(installed).toBe(true);
    const closed = new Promise<Error | null>((resolve) => port.once('close', (error: Error | null) => resolve(error)));
    // The stream also emits the failed write as 'error', as SerialLink listens for it.
    const emitted = new Promise<Error>((resolve) => port.once('error', resolve));
    await pair.stop();
    pair = undefined;
    const writeError = await new Promise<Error | null | undefined>((resolve) => port.write(Buffer.from([1, 3, 0, 0, 0, 1]), resolve));
    expect(writeError).toBeInstanceOf(Error);
    expect((await emitted).message).toMatch(/EIO/);
    // Node's stream closes itself on a failed write (before serialport's own close): SerialLink hears either.
    await closed;
    expect(port.isOpen).toBe(false);
  });

  it('a write waiting for room is not forgotten when the stream asks for input again', async () => {
    pair = await startPtyPair();
    const { port: writer, installed } = await openPort(pair.a);
    const { port: reader } = await openPort(pair.b, false);
    expect(installed).toBe(true);
    const large = randomBytes(512 * 1024);
    let written: Promise<void> | undefined;
    // Written from the 'data' handler, as the bus writes its next request when an answer completes: the write
    // fills the tty and waits for room, then the stream asks for input again before the far end reads a byte.
    writer.on('data', () => {
      written ??= writeTo(writer, large);
    });
    await writeTo(reader, Buffer.from([0x55]));
    await until(() => written !== undefined, 10_000, 'the write from the data handler');
    expect(written).toBeDefined();
    await sleep(200);
    const received = collect(reader);
    const finished = await Promise.race([written!.then(() => true), sleep(10_000, false)]);
    expect(finished).toBe(true);
    expect((await receivedBytes(received, large.length)).equals(large)).toBe(true);
  });

  it('leaves a binding of another shape alone', () => {
    expect(ioInPlace(undefined)).toBe(false);
    expect(ioInPlace({ fd: null, read: () => undefined })).toBe(false);
    expect(ioInPlace({ fd: 3, read: () => undefined, poller: { once: () => undefined } })).toBe(false);
    expect(ioInPlace({ fd: 3, read: () => undefined, write: () => undefined, poller: { once: () => undefined } })).toBe(false);
  });
});
