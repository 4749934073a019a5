/**
 * One RS-485 line shared by devices set to different baud rates, as a pty pair can carry it. A pty passes bytes
 * whatever the baud, so this gate stands between the master's end and the simulators: it reads the baud the
 * master has set on its end (stty), and passes each request only to the simulator whose devices listen at that
 * baud. At any other baud the request reaches nobody, as frames at the wrong speed are garbage to a real slave.
 * (Linux ptys do not keep a parity setting, so only the baud can be gated.)
 */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';
import type { RunningSimulator } from '../../drivers/simulator/index.js';
import { startPtyPair, type PtyPair } from './pty-pair.js';

const run = promisify(execFile);

export interface GatedGroup {
  baud: number;
  /** A TCP simulator holding the devices that listen at this baud. */
  simulator: RunningSimulator;
}

export interface LineGate {
  /** The master's end: give it to the CLI as --port. */
  readonly path: string;
  stop(): Promise<void>;
}

async function masterBaud(path: string): Promise<number | null> {
  try {
    const { stdout } = await run('stty', ['-F', path, 'speed']);
    return Number(stdout.trim());
  } catch {
    return null;
  }
}

export async function startLineGate(groups: GatedGroup[]): Promise<LineGate> {
  const pair: PtyPair = await startPtyPair();
  const port = new SerialPort({ path: pair.b, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  port.on('error', () => undefined);
  const sockets = new Map<number, Socket>();
  for (const group of groups) {
    const endpoint = group.simulator.endpoint;
    if (endpoint.kind !== 'tcp') throw new Error('the line gate forwards to TCP simulators');
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.setNoDelay(true);
    socket.on('data', (answer: Buffer) => {
      if (port.isOpen) port.write(answer);
    });
    socket.on('error', () => undefined);
    sockets.set(group.baud, socket);
  }
  // Chunks are judged one after the other, so a request's bytes keep their order.
  let chain = Promise.resolve();
  port.on('data', (chunk: Buffer) => {
    chain = chain.then(async () => {
      const baud = await masterBaud(pair.a);
      const socket = baud === null ? undefined : sockets.get(baud);
      if (socket && !socket.destroyed) socket.write(chunk);
    });
  });
  return {
    path: pair.a,
    async stop() {
      for (const socket of sockets.values()) socket.destroy();
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
      await pair.stop();
    },
  };
}
