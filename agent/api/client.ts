import { request, type IncomingMessage } from 'node:http';
import { userInfo } from 'node:os';
import type { CommandResult } from '../commands/index.js';
import type { SafetyEvent } from '../safety/index.js';
import type { BufferStatus, StatusSnapshot } from './status.js';

/** Nothing answers on the socket: the agent is not running, or this user may not use its socket. */
export class AgentUnreachableError extends Error {
  constructor(
    readonly socketPath: string,
    readonly code: string | undefined,
  ) {
    super(
      code === 'EACCES'
        ? `no permission to use ${socketPath}: run as the service user or a member of its group (sudo, or usermod -aG vigil $USER)`
        : `no agent answers on ${socketPath}: is the service running? systemctl status vigil`,
    );
    this.name = 'AgentUnreachableError';
  }
}

/** The agent answered with an error (4xx/5xx): its message says what was wrong. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}

/** A client of the agent's local API over its Unix socket. */
export class ApiClient {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private open(method: 'GET' | 'POST', path: string, body?: unknown): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request({
        socketPath: this.socketPath,
        path,
        method,
        headers: {
          'x-vigil-by': who(),
          ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }),
        },
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`the agent did not answer ${method} ${path} within ${this.timeoutMs / 1000} s`)));
      req.once('response', (res) => {
        // A stream (events --follow) may stay silent for long: the timeout covers only waiting for the answer.
        req.setTimeout(0);
        resolve(res);
      });
      req.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'EACCES' || error.code === 'ENOTSOCK') {
          reject(new AgentUnreachableError(this.socketPath, error.code));
        } else {
          reject(error);
        }
      });
      req.end(text);
    });
  }

  private async text(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async json<T>(method: 'GET' | 'POST', path: string, body?: unknown, accept: readonly number[] = []): Promise<T> {
    const res = await this.open(method, path, body);
    const text = await this.text(res);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ApiError(res.statusCode ?? 0, `the agent sent something that is not JSON (HTTP ${res.statusCode})`, text);
    }
    const status = res.statusCode ?? 0;
    if (status >= 400 && !accept.includes(status)) {
      const message = typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string' ? (parsed as { error: string }).error : `HTTP ${status}`;
      throw new ApiError(status, message, parsed);
    }
    return parsed as T;
  }

  status(): Promise<StatusSnapshot> {
    return this.json('GET', '/v1/status');
  }

  buffer(): Promise<BufferStatus> {
    return this.json('GET', '/v1/buffer');
  }

  recentEvents(limit: number): Promise<{ events: SafetyEvent[] }> {
    return this.json('GET', `/v1/events?limit=${limit}`);
  }

  /** An operator command through the agent's command path; a refused command is a result, not a throw. */
  command(body: unknown): Promise<CommandResult> {
    return this.json('POST', '/v1/commands', body, [422]);
  }

  /** Follows the event stream; resolves when `signal` aborts or the agent ends the stream. */
  async followEvents(
    onEvent: (event: SafetyEvent) => void,
    options: { recent?: number; signal?: AbortSignal; onOpen?: () => void } = {},
  ): Promise<'ended' | 'stopped'> {
    const res = await this.open('GET', `/v1/events?follow=1&limit=${options.recent ?? 0}`);
    if ((res.statusCode ?? 0) >= 400) throw new ApiError(res.statusCode ?? 0, (await this.text(res)).trim(), undefined);
    options.onOpen?.();
    if (options.signal?.aborted) {
      res.destroy();
      return 'stopped';
    }
    return new Promise((resolve, reject) => {
      let pending = '';
      const stop = (): void => {
        res.destroy();
        resolve('stopped');
      };
      options.signal?.addEventListener('abort', stop, { once: true });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line === '') continue;
          try {
            onEvent(JSON.parse(line) as SafetyEvent);
          } catch (error) {
            res.destroy();
            reject(error instanceof SyntaxError ? new Error(`the agent sent a line that is not JSON: ${line.slice(0, 80)}`) : error);
            return;
          }
        }
      });
      res.once('end', () => resolve('ended'));
      res.once('close', () => {
        options.signal?.removeEventListener('abort', stop);
        resolve('ended');
      });
      res.once('error', reject);
    });
  }

  /** Streams the CSV export into `out`; resolves with the bytes written. */
  async exportCsv(range: { from?: string; to?: string }, out: NodeJS.WritableStream, onBytes?: (bytes: number) => void): Promise<number> {
    const query = new URLSearchParams();
    if (range.from !== undefined) query.set('from', range.from);
    if (range.to !== undefined) query.set('to', range.to);
    const res = await this.open('GET', `/v1/buffer/export${query.size > 0 ? `?${query}` : ''}`);
    if ((res.statusCode ?? 0) >= 400) {
      const text = await this.text(res);
      let message = `HTTP ${res.statusCode}`;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // Keep the status line.
      }
      throw new ApiError(res.statusCode ?? 0, message, text);
    }
    let bytes = 0;
    for await (const chunk of res) {
      bytes += (chunk as Buffer).length;
      onBytes?.((chunk as Buffer).length);
      if (!out.write(chunk as Buffer)) await new Promise((resolve) => out.once('drain', resolve));
    }
    if (!res.complete) throw new Error('the export was cut off before its end (the agent stopped, or a read of the outbox failed)');
    return bytes;
  }
}
