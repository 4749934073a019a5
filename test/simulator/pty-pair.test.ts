import { readlinkSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { startPtyPair, type PtyPair } from '../support/pty-pair.js';

function open(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 9600 }, (error) => (error ? reject(error) : resolve(port)));
  });
}

function close(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

async function roundTrip(pair: PtyPair, payload: Buffer): Promise<Buffer> {
  const writer = await open(pair.a);
  const reader = await open(pair.b);
  try {
    const received = new Promise<Buffer>((resolve) => {
      let got = Buffer.alloc(0);
      reader.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= payload.length) resolve(got);
      });
    });
    writer.write(payload);
    return await received;
  } finally {
    await close(writer);
    await close(reader);
  }
}

describe('startPtyPair', () => {
  let pair: PtyPair | null = null;
  afterEach(async () => {
    await pair?.stop();
    pair = null;
  });

  it('carries bytes from one end to the other, raw', async () => {
    pair = await startPtyPair();
    // bytes a tty in cooked mode would mangle: CR, LF, ^C, ^D, 0xFF
    const payload = Buffer.from([0x01, 0x03, 0x0d, 0x0a, 0x03, 0x04, 0xff, 0x00, 0x11, 0x13]);
    expect(await roundTrip(pair, payload)).toEqual(payload);
  });

  it('restart gives new ptys behind the same paths, and they still carry bytes', async () => {
    pair = await startPtyPair();
    const before = readlinkSync(pair.a);
    const holder = await open(pair.a); // keep the old pty referenced so the kernel cannot reuse its number
    await pair.restart();
    expect(readlinkSync(pair.a)).not.toBe(before);
    await close(holder);
    const payload = Buffer.from('after replug');
    expect(await roundTrip(pair, payload)).toEqual(payload);
  });

  it('stop removes the links', async () => {
    const stopped = await startPtyPair();
    await stopped.stop();
    await stopped.stop();
    expect(() => readlinkSync(stopped.a)).toThrow();
    await expect(stopped.restart()).rejects.toThrow(/stopped/);
  });
});
