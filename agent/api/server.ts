import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CommandHandler } from '../commands/index.js';
import type { Logger } from '../log/index.js';
import type { SafetyEvent } from '../safety/index.js';
import { exportCsv, parseTime, type TimeRange } from './buffer-export.js';
import { listenOnSocket, removeSocketFile } from './socket.js';
import { bufferStatus, buildStatus, oldestWaitingWallTs, type StatusSource } from './status.js';

/** A command body larger than this is refused (operator commands are a few hundred bytes). */
const MAX_BODY_BYTES = 64 * 1024;
/** Followers get a blank line this often, so a vanished client is noticed and proxies keep the stream open. */
const KEEPALIVE_MS = 15_000;
/** Concurrent connections; a runaway script cannot use up the agent's file descriptors. */
const MAX_CONNECTIONS = 64;
/** At most this many recent events per request. */
const MAX_EVENTS = 500;

export interface ApiServerOptions {
  agent: StatusSource;
  commands: Pick<CommandHandler, 'execute'>;
  logger: Logger;
  /** Unix socket path (already claimed with claimSocketPath). */
  socketPath?: string;
  /** Also listen on 127.0.0.1 at this port, read-only (GET only) (0: any free port, for tests). */
  tcpPort?: number;
  version?: string;
}

export interface ApiServer {
  readonly socketPath: string | undefined;
  /** The loopback port actually listened on, when TCP is on. */
  readonly tcpPort: number | undefined;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Route {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/v1/status', summary: 'the status snapshot (values, quality, alarms, outputs and why, buses, uplink, buffer, clock)' },
  { method: 'GET', path: '/v1/events', summary: 'recent safety events; ?limit=N; ?follow=1 streams them as newline-delimited JSON' },
  { method: 'GET', path: '/v1/buffer', summary: 'outbox depth, oldest age, drops' },
  { method: 'GET', path: '/v1/buffer/export', summary: 'CSV of the records not yet delivered; ?from=&to= (ISO 8601 or ms)' },
  { method: 'POST', path: '/v1/commands', summary: 'an operator command, the same JSON as from the platform' },
];

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Who asked, for the audit trail: the client may name itself (a user name), the transport is always added. */
function requester(req: IncomingMessage, transport: 'local' | 'local-tcp'): string {
  const header = req.headers['x-vigil-by'];
  const claimed = typeof header === 'string' ? header.replace(/[^A-Za-z0-9_.@-]/g, '').slice(0, 64) : '';
  return `${transport}:${claimed === '' ? 'cli' : claimed}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function intParam(url: URL, name: string, fallback: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  if (!/^\d+$/.test(text)) throw new HttpError(400, `${name}: expected a whole number, got "${text}"`);
  return Math.min(Number(text), max);
}

function flagParam(url: URL, name: string): boolean {
  const text = url.searchParams.get(name);
  if (text === null || text === '0' || text === 'false') return false;
  if (text === '' || text === '1' || text === 'true') return true;
  throw new HttpError(400, `${name}: expected 1 or 0, got "${text}"`);
}

function rangeParams(url: URL): TimeRange {
  const range: TimeRange = {};
  for (const name of ['from', 'to'] as const) {
    const text = url.searchParams.get(name);
    if (text === null || text === '') continue;
    const ms = parseTime(text);
    if (ms === undefined) throw new HttpError(400, `${name}: expected an ISO 8601 time (2024-05-01T10:00:00Z) or ms since the epoch, got "${text}"`);
    range[name] = ms;
  }
  if (range.from !== undefined && range.to !== undefined && range.to <= range.from) throw new HttpError(400, 'to must be after from');
  return range;
}

function unknownParams(url: URL, allowed: readonly string[]): void {
  const unknown = [...url.searchParams.keys()].filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new HttpError(400, `unknown parameter${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}${allowed.length > 0 ? ` (known: ${allowed.join(', ')})` : ''}`);
  }
}

/**
 * The local API: HTTP/1.1 over a Unix socket (file permissions are the access control) and, when configured,
 * over loopback TCP. Read-only views of the running agent, plus operator commands through the one command path
 * (on the socket only: loopback TCP is read-only).
 * A bad request gets a 4xx with a JSON error; nothing a client sends can stop the agent.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { agent, commands, logger } = options;
  const followers = new Set<ServerResponse>();

  const oldestWallTs = (): Promise<number | null> => oldestWaitingWallTs(agent.uplink);

  async function handle(req: IncomingMessage, res: ServerResponse, transport: 'local' | 'local-tcp'): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vigil');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const routes = ROUTES.filter((r) => r.path === path);
    if (path === '/' || path === '/v1') {
      sendJson(res, 200, { api: 'vigil', version: 1, endpoints: ROUTES.map((r) => `${r.method} ${r.path}: ${r.summary}`) });
      return;
    }
    if (routes.length === 0) throw new HttpError(404, `no endpoint ${path}; see GET /v1 for the list`);
    if (!routes.some((r) => r.method === req.method)) {
      const allow = routes.map((r) => r.method).join(', ');
      throw new HttpError(405, `${path} takes ${allow}, not ${req.method ?? '?'}`, { allow });
    }
    // Any local user can reach loopback TCP and the X-Vigil-By name is self-declared: only the socket, whose
    // file permissions decide who connects, may move relays.
    if (transport === 'local-tcp' && req.method !== 'GET') {
      const socket = options.socketPath ? ` (${options.socketPath})` : '';
      throw new HttpError(
        403,
        `the loopback TCP port is read-only: ${req.method ?? '?'} ${path} is taken only on the Unix socket${socket}, whose 0660 permissions are the access control (vigil CLI commands use it)`,
      );
    }

    switch (path) {
      case '/v1/status': {
        unknownParams(url, ['events']);
        const events = intParam(url, 'events', 10, MAX_EVENTS);
        sendJson(res, 200, buildStatus(agent, { oldestWallTs: await oldestWallTs(), recentEvents: events, ...(options.version ? { version: options.version } : {}) }));
        return;
      }
      case '/v1/events': {
        unknownParams(url, ['limit', 'follow']);
        const follow = flagParam(url, 'follow');
        const limit = intParam(url, 'limit', follow ? 0 : 50, MAX_EVENTS);
        const recent = limit === 0 ? [] : agent.events.recent(limit);
        if (!follow) {
          sendJson(res, 200, { events: recent });
          return;
        }
        streamEvents(res, recent);
        return;
      }
      case '/v1/buffer': {
        unknownParams(url, []);
        const parts = agent.uplink;
        if (!parts) throw new HttpError(404, 'this agent runs without an outbox (no data folder and settings): nothing is buffered');
        sendJson(res, 200, bufferStatus(parts, Date.now(), await oldestWallTs()));
        return;
      }
      case '/v1/buffer/export': {
        unknownParams(url, ['from', 'to']);
        const range = rangeParams(url);
        const parts = agent.uplink;
        if (!parts) throw new HttpError(404, 'this agent runs without an outbox (no data folder and settings): nothing is buffered');
        await streamCsv(res, exportCsv(parts.outbox, range));
        return;
      }
      case '/v1/commands': {
        unknownParams(url, []);
        const text = await readBody(req);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (error) {
          throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`);
        }
        const by = requester(req, transport);
        const result = commands.execute(body, by);
        logger.info({ by, command: body, ok: result.ok }, `local API command ${result.action ?? '?'}: ${result.ok ? result.message : result.error}`);
        sendJson(res, result.ok ? 200 : 422, result);
        return;
      }
    }
  }

  function streamEvents(res: ServerResponse, recent: readonly SafetyEvent[]): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    // The client learns at once that it follows, even before the first event.
    res.flushHeaders();
    for (const event of recent) res.write(JSON.stringify(event) + '\n');
    // A slow reader only costs its own buffer up to a point: past it, it is cut off rather than let it grow.
    const unsubscribe = agent.events.subscribe((event) => {
      if (res.writableLength > 1024 * 1024) {
        res.destroy();
        return;
      }
      res.write(JSON.stringify(event) + '\n');
    });
    const keepalive = setInterval(() => res.write('\n'), KEEPALIVE_MS);
    followers.add(res);
    res.once('close', () => {
      unsubscribe();
      clearInterval(keepalive);
      followers.delete(res);
    });
  }

  async function streamCsv(res: ServerResponse, lines: AsyncGenerator<string>): Promise<void> {
    let started = false;
    try {
      for await (const chunk of lines) {
        if (!started) {
          res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="vigil-buffer.csv"' });
          started = true;
        }
        if (res.destroyed) return;
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
      }
      res.end();
    } catch (error) {
      // Once the header is out, the status cannot change: cut the stream so the client sees it incomplete.
      if (started) res.destroy(error as Error);
      else throw error;
    }
  }

  function listener(transport: 'local' | 'local-tcp') {
    return (req: IncomingMessage, res: ServerResponse): void => {
      handle(req, res, transport).catch((error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        if (status === 500) logger.error({ err: error, url: req.url }, 'local API request failed');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendJson(res, status, { ok: false, error: error instanceof Error ? error.message : String(error) }, error instanceof HttpError ? error.headers : {});
      });
    };
  }

  function configure(server: Server): Server {
    server.maxConnections = MAX_CONNECTIONS;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    return server;
  }

  const servers: Array<{ server: Server; cleanup: () => void }> = [];
  let tcpPort: number | undefined;
  try {
    if (options.socketPath !== undefined) {
      const path = options.socketPath;
      const server = configure(createServer(listener('local')));
      const ino = await listenOnSocket(server, path);
      servers.push({ server, cleanup: () => removeSocketFile(path, ino) });
    }
    if (options.tcpPort !== undefined) {
      const server = configure(createServer(listener('local-tcp')));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port: options.tcpPort }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address();
      tcpPort = typeof address === 'object' && address !== null ? address.port : undefined;
      servers.push({ server, cleanup: () => {} });
    }
  } catch (error) {
    await Promise.all(servers.map(({ server, cleanup }) => new Promise<void>((resolve) => server.close(() => (cleanup(), resolve())))));
    throw error;
  }

  return {
    socketPath: options.socketPath,
    tcpPort,
    async close() {
      for (const res of followers) res.end();
      await Promise.all(
        servers.map(
          ({ server, cleanup }) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
              cleanup();
            }),
        ),
      );
    },
  };
}
