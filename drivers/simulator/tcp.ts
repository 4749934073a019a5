/** Raw RTU frames over TCP, as a serial device server carries them; each connection is answered on itself. */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { SimulatedBus } from './bus.js';
import { RequestFramer } from './framer.js';
import { runningSimulator } from './running.js';
import type { RunningSimulator, SimulatorOptions } from './types.js';

export async function startTcpSimulator(
  opts: SimulatorOptions & { host?: string; port?: number },
): Promise<RunningSimulator> {
  const bus = new SimulatedBus(opts);
  const host = opts.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const framer = new RequestFramer((event) =>
      bus.onFrame(event, (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      }),
    );
    socket.on('data', (chunk: Buffer) => {
      if (opts.echo && !socket.destroyed) socket.write(chunk);
      framer.push(chunk);
    });
    socket.on('close', () => {
      framer.close();
      sockets.delete(socket);
    });
    // a master hanging up mid-answer is its own business; the other connections carry on
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return runningSimulator(bus, { kind: 'tcp', host, port }, async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  });
}
