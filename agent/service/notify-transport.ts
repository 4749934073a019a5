import { spawn } from 'node:child_process';
import { findExecutable } from './executables.js';

/**
 * How a notification ("READY=1", "WATCHDOG=1", …) reaches the service manager's NOTIFY_SOCKET, a unix datagram
 * socket. Node cannot send unix datagrams, and the `sd-notify` package is a native build on every gateway, so
 * a small system tool sends them:
 *
 * - `systemd-notify` (part of systemd, so present wherever NOTIFY_SOCKET is set by systemd). Since systemd 246
 *   it waits, by default, until the manager has processed the message (a BARRIER=1 round trip). That closes
 *   the old race where the sending process has exited before systemd looks up which unit it belongs to. It
 *   sends from its own PID, so the unit needs NotifyAccess=all.
 * - `socat` (`UNIX-SENDTO`), only where systemd-notify is missing (containers that emulate a manager). It
 *   cannot wait for the manager: with a real systemd prefer systemd-notify.
 */
export interface NotifyTransport {
  /** Which tool carries the messages, for logs. */
  readonly name: string;
  /** Sends one datagram holding these VAR=VALUE assignments; rejects with what went wrong. */
  send(assignments: readonly string[]): Promise<void>;
}

export interface ToolTransportOptions {
  /** The tool's path; found on PATH when absent. */
  command?: string;
  /** A send that has not finished by then is killed and counts as failed. */
  timeoutMs?: number;
}

const DEFAULT_SEND_TIMEOUT_MS = 10_000;

function runTool(command: string, args: readonly string[], env: NodeJS.ProcessEnv, input: string | undefined, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${signal ? `killed by ${signal}` : `exited with ${String(code)}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** One `systemd-notify VAR=VALUE…` per message, blocking until the manager has processed it. */
export function systemdNotifyTransport(socket: string, options: ToolTransportOptions = {}): NotifyTransport {
  const command = options.command ?? findExecutable('systemd-notify') ?? 'systemd-notify';
  const timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  return {
    name: 'systemd-notify',
    send: (assignments) => runTool(command, assignments, { ...process.env, NOTIFY_SOCKET: socket }, undefined, timeoutMs),
  };
}

/** One `socat -u STDIN UNIX-SENDTO:socket` per message; an "@name" socket is in the abstract namespace. */
export function socatNotifyTransport(socket: string, options: ToolTransportOptions = {}): NotifyTransport {
  const command = options.command ?? findExecutable('socat') ?? 'socat';
  const timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  // socat address syntax treats ':' and ',' specially: refuse rather than send somewhere else.
  const address = socket.startsWith('@') ? `ABSTRACT-SENDTO:${socket.slice(1)}` : `UNIX-SENDTO:${socket}`;
  return {
    name: 'socat',
    send: (assignments) => {
      if (/[,:!]/.test(socket.slice(1))) return Promise.reject(new Error(`socat cannot address the notify socket ${socket}`));
      return runTool(command, ['-u', 'STDIN', address], process.env, assignments.join('\n'), timeoutMs);
    },
  };
}

/** systemd-notify when installed, else socat, else none (the caller says why notifications cannot be sent). */
export function defaultNotifyTransport(socket: string, path: string | undefined = process.env.PATH): NotifyTransport | undefined {
  const systemdNotify = findExecutable('systemd-notify', path);
  if (systemdNotify) return systemdNotifyTransport(socket, { command: systemdNotify });
  const socat = findExecutable('socat', path);
  if (socat) return socatNotifyTransport(socket, { command: socat });
  return undefined;
}
