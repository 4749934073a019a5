/**
 * A minimal Modbus RTU master for the simulator tests, built only on drivers/modbus/rtu.ts: one request at a
 * time, over a TCP socket (raw RTU, as to a serial device server) or a serial port.
 */
import { connect, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { encodeRequest, extractResponse, type ModbusRequest, type ModbusResponse } from '../../drivers/modbus/rtu.js';

export type MasterResult =
  | { kind: 'response'; response: ModbusResponse }
  | { kind: 'exception'; code: number }
  /** No valid answer in time: what did arrive, and whether a frame-shaped answer failed its CRC. */
  | { kind: 'timeout'; received: Buffer; crcSeen: boolean };

interface Link {
  write(bytes: Buffer): void;
  onData(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

export class RtuMaster {
  private received = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  constructor(private readonly link: Link) {
    link.onData((chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake?.();
    });
  }

  async request(req: ModbusRequest, timeoutMs = 1000): Promise<MasterResult> {
    return this.exchange(encodeRequest(req), req, timeoutMs);
  }

  /** Sends any bytes and waits for the answer to `req` (or the timeout). */
  async exchange(bytes: Buffer, req: ModbusRequest, timeoutMs = 1000): Promise<MasterResult> {
    this.received = Buffer.alloc(0);
    this.link.write(bytes);
    return this.waitFor(req, timeoutMs);
  }

  /** Waits for an answer to `req` among the bytes received since the last request (a late answer). */
  async waitFor(req: ModbusRequest, timeoutMs: number): Promise<MasterResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = extractResponse(req, this.received);
      if (found.kind === 'response') return { kind: 'response', response: found.response };
      if (found.kind === 'exception') return { kind: 'exception', code: found.code };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout', received: this.received, crcSeen: found.crcSeen };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Sends bytes without waiting (e.g. the rest of a frame split on purpose). */
  write(bytes: Buffer): void {
    this.link.write(bytes);
  }

  /** Sends bytes and collects whatever comes back within `waitMs`. */
  async sendAndCollect(bytes: Buffer, waitMs: number): Promise<Buffer> {
    this.received = Buffer.alloc(0);
    this.link.write(bytes);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    return this.received;
  }

  async readRegisters(unit: number, address: number, count: number, fn: 3 | 4 = 3): Promise<number[]> {
    const result = await this.request({ unit, fn, address, count });
    if (result.kind !== 'response' || !('registers' in result.response)) throw new Error(`read failed: ${JSON.stringify(result)}`);
    return result.response.registers;
  }

  async readBits(unit: number, address: number, count: number, fn: 1 | 2): Promise<boolean[]> {
    const result = await this.request({ unit, fn, address, count });
    if (result.kind !== 'response' || !('bits' in result.response)) throw new Error(`read failed: ${JSON.stringify(result)}`);
    return result.response.bits;
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

export async function tcpMaster(host: string, port: number): Promise<RtuMaster> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  return new RtuMaster({
    write: (bytes) => socket.write(bytes),
    onData: (listener) => socket.on('data', listener),
    close: () =>
      new Promise((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      }),
  });
}

export async function serialMaster(path: string): Promise<RtuMaster> {
  const port: SerialPort = await new Promise((resolve, reject) => {
    const p = new SerialPort({ path, baudRate: 9600 }, (error) => (error ? reject(error) : resolve(p)));
  });
  return new RtuMaster({
    write: (bytes) => port.write(bytes),
    onData: (listener) => port.on('data', listener),
    close: () => new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  });
}
