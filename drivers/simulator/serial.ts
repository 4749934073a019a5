/**
 * The simulator on a serial port (a real RS-485 adapter, or one end of a socat pty pair). When the port goes
 * away (adapter unplugged, socat restarted) it keeps trying to open the same path, as a field device stays on
 * the line while the gateway's adapter comes and goes.
 */
import { SerialPort } from 'serialport';
import { watchDeviceIdentity } from '../serial/index.js';
import type { LineSettings } from '../modbus/rtu.js';
import { SimulatedBus } from './bus.js';
import { RequestFramer } from './framer.js';
import { runningSimulator } from './running.js';
import type { RunningSimulator, SimulatorOptions } from './types.js';

const REOPEN_EVERY_MS = 100;

function openPort(path: string, line: LineSettings): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path,
      baudRate: line.baud,
      dataBits: line.dataBits,
      parity: line.parity,
      stopBits: line.stopBits,
      autoOpen: false,
    });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve();
    port.close(() => resolve());
  });
}

export async function startSerialSimulator(
  opts: SimulatorOptions & { path: string; line: LineSettings },
): Promise<RunningSimulator> {
  const bus = new SimulatedBus(opts);
  let stopping = false;
  let port: SerialPort | null = null;
  let reopenTimer: NodeJS.Timeout | null = null;

  const attach = (opened: SerialPort): void => {
    port = opened;
    const framer = new RequestFramer((event) =>
      bus.onFrame(event, (bytes) => {
        if (opened.isOpen) opened.write(bytes);
      }),
    );
    opened.on('data', (chunk: Buffer) => {
      if (opts.echo && opened.isOpen) opened.write(chunk);
      framer.push(chunk);
    });
    opened.on('error', () => undefined);
    // A vanished pty does not always raise 'close' here: watch the path too, and let go of a dead port.
    const identity = watchDeviceIdentity(opts.path, () => {
      if (port !== opened) return;
      void closePort(opened).then(() => {
        if (port === opened) opened.emit('close');
      });
    });
    opened.on('close', () => {
      identity.stop();
      framer.close();
      if (port === opened) port = null;
      if (!stopping) scheduleReopen();
    });
  };

  const scheduleReopen = (): void => {
    if (stopping || reopenTimer) return;
    reopenTimer = setTimeout(() => {
      reopenTimer = null;
      openPort(opts.path, opts.line).then(
        (opened) => (stopping ? void closePort(opened) : attach(opened)),
        () => scheduleReopen(),
      );
    }, REOPEN_EVERY_MS);
  };

  attach(await openPort(opts.path, opts.line));
  return runningSimulator(bus, { kind: 'serial', path: opts.path }, async () => {
    stopping = true;
    if (reopenTimer) clearTimeout(reopenTimer);
    reopenTimer = null;
    if (port) await closePort(port);
  });
}
