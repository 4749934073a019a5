import type convict from 'convict';

/** Where the agent's local status API listens (see docs/local-api.md). */
export interface ApiSettings {
  /** Unix socket path; null = <dataDir>/vigil.sock. */
  socket: string | null;
  /** Also listen on 127.0.0.1 at this TCP port; null = no TCP (only the socket). */
  tcpPort: number | null;
}

/**
 * A Unix socket path must fit sun_path (107 bytes on Linux); the agent first binds a temporary name beside it
 * (".<pid>.tmp" appended), so leave room for that.
 */
const MAX_SOCKET_PATH_BYTES = 90;

function socketPathFormat(value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') throw new Error('must be a file path for the Unix socket');
  if (Buffer.byteLength(value) > MAX_SOCKET_PATH_BYTES) throw new Error(`must be at most ${MAX_SOCKET_PATH_BYTES} bytes long (Unix socket paths are short)`);
}

/** A TCP port; an environment variable arrives as text and is made a number by `normaliseApiSettings`. */
function portFormat(value: unknown): void {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535) {
    throw new Error('must be a TCP port, 1–65535');
  }
}

export const apiSettingsSchema: convict.Schema<ApiSettings> = {
  socket: {
    doc: 'Unix socket of the local status API (vigil status, events, buffer, relay test); mode 0660. Unset: <dataDir>/vigil.sock.',
    format: socketPathFormat,
    nullable: true,
    default: null,
    env: 'VIGIL_API_SOCKET',
  },
  tcpPort: {
    doc: 'Also serve the local API on 127.0.0.1 at this port, read-only (GET endpoints; commands need the socket, since anyone on the box can use this port). Unset: socket only.',
    format: portFormat,
    nullable: true,
    default: null,
    env: 'VIGIL_API_TCP_PORT',
  },
};

/** Turns values that came from the environment as text into their types (after validation). */
export function normaliseApiSettings(api: ApiSettings): ApiSettings {
  if (api.tcpPort !== null) api.tcpPort = Number(api.tcpPort);
  return api;
}
