import { SerialPort } from 'serialport';
import type { LineSettings } from '../../drivers/modbus/rtu.js';
import { watchDeviceIdentity, type IdentityWatch } from '../../drivers/serial/index.js';
import { ioInPlace } from './serial-in-place.js';
import { LinkBase } from './link.js';

/** A local serial port (USB RS-485 adapter, UART with auto-direction transceiver, or a pty in tests). */
export class SerialLink extends LinkBase {
  private port: SerialPort | null = null;
  private identity: IdentityWatch | undefined;

  constructor(
    private readonly path: string,
    private readonly line: LineSettings,
  ) {
    super(`serial ${path}`);
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({
        path: this.path,
        baudRate: this.line.baud,
        dataBits: this.line.dataBits,
        parity: this.line.parity,
        stopBits: this.line.stopBits,
        autoOpen: false,
      });
      this.port = port;
      // Before 'data' is listened to and before the first write: both wait for 'open', and this listener runs first.
      port.once('open', () => ioInPlace((port as unknown as { port?: unknown }).port));
      port.on('data', (chunk: Buffer) => this.deliver(chunk));
      // A read error on an unplugged adapter or a vanished pty arrives as `close` with a disconnect error;
      // anything else that goes wrong after open arrives as `error`. Either way the port is spent.
      port.on('close', (error: Error | null) => this.markLost(error ?? new Error('port closed')));
      port.on('error', (error: Error) => this.markLost(error));
      port.open((error) => {
        if (error) {
          this.markSpent();
          reject(error);
          return;
        }
        if (this.port !== port) {
          // destroy() ran while the port was opening: release it rather than leak an open port.
          port.close(() => undefined);
          reject(new Error(`${this.name} was closed while opening`));
          return;
        }
        this.markOpen();
        this.identity = watchDeviceIdentity(this.path, (why) => this.markLost(new Error(why)));
        resolve();
      });
    });
  }

  write(frame: Buffer): void {
    const port = this.port;
    if (!port || !this.isOpen) return;
    port.write(frame, (error) => {
      if (error) this.markLost(error);
    });
  }

  destroy(): Promise<void> {
    this.identity?.stop();
    this.markSpent();
    const port = this.port;
    this.port = null;
    if (!port || !port.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      port.close(() => resolve());
    });
  }
}
