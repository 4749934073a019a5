import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the uplink and the broker that plays the network's and the broker's faults, and counts
 * at the broker's door: connections accepted, and QoS 1 PUBLISHes from the client not yet answered by a
 * PUBACK delivered back to it (the client's messages in flight, as the broker side sees them).
 */

/** pass: forward; refuse: accept the TCP connection and close it at once; drop-after-connack: let it connect, then cut it. */
type Mode = 'pass' | 'refuse' | 'drop-after-connack';

interface Pair {
  client: Socket;
  broker: Socket;
  outstanding: Set<number>;
  heldToClient: Buffer[];
  toClientScanner?: PacketScanner;
}

/** Splits an MQTT byte stream into packets: (type, flags, body). */
class PacketScanner {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onPacket: (type: number, flags: number, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (;;) {
        const byte = this.buffer[i];
        if (byte === undefined) return;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        i++;
        if ((byte & 0x80) === 0) break;
        if (i > 4) throw new Error('malformed remaining length');
      }
      if (this.buffer.length < i + length) return;
      const first = this.buffer[0] ?? 0;
      const body = this.buffer.subarray(i, i + length);
      this.buffer = this.buffer.subarray(i + length);
      this.onPacket(first >> 4, first & 0x0f, body);
    }
  }
}

const PUBLISH = 3;
const PUBACK = 4;
const CONNACK = 2;

export class FaultProxy {
  connections = 0;
  maxOutstanding = 0;
  /** QoS 1 PUBLISHes seen from clients, by topic. */
  readonly publishes = new Map<string, number>();
  private mode: Mode = 'pass';
  private holdingAcks = false;
  /** Every byte from the broker reaches the client this much later (a slow broker or link). */
  delayToClientMs = 0;
  private blackholing = false;
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();

  private constructor(
    private readonly targetPort: number,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<FaultProxy> {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => {
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const proxy = new FaultProxy(targetPort, port);
    await proxy.up();
    return proxy;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Messages in flight on the current connections. */
  get outstanding(): number {
    let n = 0;
    for (const pair of this.pairs) n += pair.outstanding.size;
    return n;
  }

  setMode(mode: Mode): void {
    this.mode = mode;
  }

  /** Stop (or resume) passing the broker's bytes to the client: PUBACKs stop arriving. */
  holdAcks(hold: boolean): void {
    this.holdingAcks = hold;
    if (!hold) {
      for (const pair of this.pairs) {
        for (const chunk of pair.heldToClient.splice(0)) this.toClient(pair, chunk);
      }
    }
  }

  /** Stop passing the client's bytes to the broker (they vanish, as on a dead link). */
  blackhole(on: boolean): void {
    this.blackholing = on;
  }

  /** The broker's port is gone: new connections are refused and current ones are cut. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.cutAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Cuts every current connection at once (both sides), as a killed socket. */
  cutAll(): void {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.broker.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    await this.down();
  }

  private accept(client: Socket): void {
    this.connections++;
    if (this.mode === 'refuse') {
      client.on('error', () => {});
      client.destroy();
      return;
    }
    const broker = connect(this.targetPort, '127.0.0.1');
    const pair: Pair = { client, broker, outstanding: new Set(), heldToClient: [] };
    this.pairs.add(pair);
    const end = (): void => {
      client.destroy();
      broker.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', end);
    broker.on('error', end);
    client.on('close', end);
    broker.on('close', end);
    const fromClient = new PacketScanner((type, flags, body) => {
      if (type !== PUBLISH || ((flags >> 1) & 3) === 0) return;
      const topicLength = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + topicLength).toString('utf8');
      this.publishes.set(topic, (this.publishes.get(topic) ?? 0) + 1);
      pair.outstanding.add(body.readUInt16BE(2 + topicLength));
      this.maxOutstanding = Math.max(this.maxOutstanding, pair.outstanding.size);
    });
    const toClient = new PacketScanner((type, _flags, body) => {
      if (type === PUBACK) pair.outstanding.delete(body.readUInt16BE(0));
      if (type === CONNACK && this.mode === 'drop-after-connack') setImmediate(end);
    });
    pair.toClientScanner = toClient;
    client.on('data', (chunk: Buffer) => {
      if (this.blackholing) return;
      fromClient.push(chunk);
      broker.write(chunk);
    });
    broker.on('data', (chunk: Buffer) => {
      if (this.holdingAcks) pair.heldToClient.push(chunk);
      else if (this.delayToClientMs > 0) setTimeout(() => this.toClient(pair, chunk), this.delayToClientMs);
      else this.toClient(pair, chunk);
    });
  }

  private toClient(pair: Pair, chunk: Buffer): void {
    pair.toClientScanner?.push(chunk);
    if (!pair.client.destroyed) pair.client.write(chunk);
  }
}
