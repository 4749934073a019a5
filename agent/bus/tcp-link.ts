import { connect, type Socket } from 'node:net';
import { LinkBase } from './link.js';

/** A device server that does not answer the SYN within this is treated as unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;
const KEEPALIVE_IDLE_MS = 5_000;

/** Raw RTU frames over TCP, as serial device servers forward them ("RTU over TCP", not Modbus TCP). */
export class TcpLink extends LinkBase {
  private socket: Socket | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    super(`tcp ${host}:${port}`);
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      this.socket = socket;
      // Frames are a few bytes: Nagle would hold each request back waiting for the previous ACK.
      socket.setNoDelay(true);
      let connected = false;
      const connectTimer = setTimeout(() => {
        socket.destroy(new Error(`no connection to ${this.host}:${this.port} within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        connected = true;
        socket.setKeepAlive(true, KEEPALIVE_IDLE_MS);
        this.markOpen();
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.deliver(chunk));
      socket.on('error', (error: Error) => {
        clearTimeout(connectTimer);
        if (connected) this.markLost(error);
        else {
          this.markSpent();
          reject(error);
        }
      });
      socket.on('close', () => {
        clearTimeout(connectTimer);
        if (connected) this.markLost(new Error('connection closed by the device server'));
        else {
          this.markSpent();
          reject(new Error(`connection to ${this.host}:${this.port} closed before it was established`));
        }
      });
    });
  }

  write(frame: Buffer): void {
    if (this.socket && this.isOpen) this.socket.write(frame);
  }

  destroy(): Promise<void> {
    this.markSpent();
    const socket = this.socket;
    this.socket = null;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}
