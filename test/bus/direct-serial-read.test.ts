import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SerialPort } from 'serialport';
import { readInPlace } from '../../agent/bus/direct-serial-read.js';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';

let pair: PtyPair | undefined;
const ports: SerialPort[] = [];

afterEach(async () => {
  for (const port of ports.splice(0)) if (port.isOpen) await new Promise((resolve) => port.close(resolve));
  await pair?.stop();
  pair = undefined;
});

/** Opens a port with the in-place read installed as SerialLink installs it (before anything reads). */
async function openPort(path: string, install = true): Promise<{ port: SerialPort; installed: boolean }> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  ports.push(port);
  let installed = false;
  if (install) port.once('open', () => (installed = readInPlace((port as unknown as { port?: unknown }).port)));
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  return { port, installed };
}

describe('serial reads in place (no thread-pool round trip)', () => {
  it('is installed on a real port, and every byte arrives in order across many chunks', async () => {
    pair = await startPtyPair();
    const { port: reader, installed } = await openPort(pair.a);
    const { port: writer } = await openPort(pair.b, false);
    expect(installed).toBe(true);
    const sent: Buffer[] = [];
    const received: Buffer[] = [];
    reader.on('data', (chunk: Buffer) => received.push(chunk));
    for (let i = 0; i < 200; i++) {
      const chunk = randomBytes(1 + (i % 97));
      sent.push(chunk);
      await new Promise<void>((resolve, reject) => writer.write(chunk, (error) => (error ? reject(error) : resolve())));
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const total = Buffer.concat(sent);
    const deadline = Date.now() + 10_000;
    while (Buffer.concat(received).length < total.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Buffer.concat(received).equals(total)).toBe(true);
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

  it('leaves a binding of another shape alone', () => {
    expect(readInPlace(undefined)).toBe(false);
    expect(readInPlace({ fd: null, read: () => undefined })).toBe(false);
  });
});
