import { chmodSync, lstatSync, renameSync, unlinkSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { join } from 'node:path';

/** Only the service user and its group may talk to the agent. */
export const SOCKET_MODE = 0o660;

/** The socket path from the settings, else <dataDir>/vigil.sock. */
export function apiSocketPath(settings: { dataDir: string; api: { socket: string | null } }, dataDir = settings.dataDir): string {
  return settings.api.socket ?? join(dataDir, 'vigil.sock');
}

/** Another agent answers on the socket: two agents on the same buses and relays must not run at once. */
export class ApiSocketInUseError extends Error {
  constructor(readonly path: string) {
    super(`another agent answers on ${path}: refusing to start a second one (stop it first: systemctl stop vigil)`);
    this.name = 'ApiSocketInUseError';
  }
}

/** Whether something accepts connections on the Unix socket `path` (within `timeoutMs`). */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (answers: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answers);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Makes `path` free for this agent's socket. A live socket (another agent answers) is refused; a stale one left
 * by a crash is removed; anything that is not a socket is never deleted.
 */
export async function claimSocketPath(path: string): Promise<void> {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stats.isSocket()) throw new Error(`${path} exists and is not a socket: remove it or set api.socket to another path`);
  if (await socketAnswers(path)) throw new ApiSocketInUseError(path);
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Listens on `path` with mode 0660 and no moment of looser permissions: the socket is bound under a temporary
 * name, its mode set, then renamed into place (clients find it only once it is locked down). Returns the inode,
 * so that closing removes the file only while it is still this agent's.
 */
export async function listenOnSocket(server: Server, path: string): Promise<number> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    unlinkSync(temporary);
  } catch {
    // Usually absent; a leftover of this very pid is ours to replace.
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(temporary, () => {
      server.off('error', onError);
      resolve();
    });
  });
  try {
    chmodSync(temporary, SOCKET_MODE);
    renameSync(temporary, path);
  } catch (error) {
    server.close();
    throw error;
  }
  return lstatSync(path).ino;
}

/** Removes the socket file if it is still the one this agent bound (a later agent may have replaced it). */
export function removeSocketFile(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/**
 * Claims the socket path for this agent: resolves to the path when it can be used, undefined (logged) when the
 * API must do without it, and throws ApiSocketInUseError when another agent is running. A status API problem never
 * keeps the safety loop from starting; a second agent on the same relays does.
 */
export async function prepareApiSocket(path: string, logger: { error(obj: object, msg: string): void }): Promise<string | undefined> {
  try {
    await claimSocketPath(path);
    return path;
  } catch (error) {
    if (error instanceof ApiSocketInUseError) throw error;
    logger.error({ err: error, path }, 'local API socket unusable: running without it');
    return undefined;
  }
}
