import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * OPC UA users: a text file, one user per line, `name:role:hash`.
 *   role  operator (may call methods that move outputs, acknowledge alarms, reset baselines) or viewer (reads only)
 *   hash  scrypt$N$r$p$salt$key (salt and key base64), made by `node dist/agent/opcua/hash-password.js NAME ROLE`
 * Blank lines and lines starting with # are ignored. The file holds no password, only salted scrypt keys.
 */

export const ROLES = ['operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface OpcuaUser {
  name: string;
  role: Role;
  hash: ScryptHash;
}

interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

export class UsersFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'UsersFileError';
  }
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
const SCRYPT_N = 16384;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_BYTES = 32;
/** The most memory one verification may take (N × r × 128 bytes, with headroom). */
const MAX_MEMORY = 64 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N, r, p, maxmem: MAX_MEMORY }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** A new `scrypt$…` hash of a password, with a random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES);
  return `scrypt$${SCRYPT_N}$${SCRYPT_R}$${SCRYPT_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function parseHash(text: string): ScryptHash | string {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return 'hash must be scrypt$N$r$p$salt$key';
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || (N & (N - 1)) !== 0) return 'hash: N, r, p must be positive whole numbers, N a power of 2';
  if (N * r * 128 > MAX_MEMORY / 2) return 'hash: N × r too large';
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || key.length < 16) return 'hash: salt or key too short';
  return { N, r, p, salt, key };
}

/** Parses the users file text; every problem is reported with its line number, and none is ignored. */
export function parseUsers(text: string, file: string): OpcuaUser[] {
  const users: OpcuaUser[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `line ${index + 1}`;
    const fields = line.split(':');
    if (fields.length !== 3) {
      problems.push(`${where}: expected name:role:hash`);
      return;
    }
    const [name, role, hashText] = fields as [string, string, string];
    if (!NAME.test(name)) problems.push(`${where}: user name must be 1–64 letters, digits, "_", ".", "@" or "-"`);
    else if (seen.has(name)) problems.push(`${where}: user "${name}" appears twice`);
    if (!(ROLES as readonly string[]).includes(role)) problems.push(`${where}: role must be ${ROLES.join(' or ')}, got "${role}"`);
    const hash = parseHash(hashText);
    if (typeof hash === 'string') problems.push(`${where}: ${hash}`);
    if (problems.length === 0 && typeof hash !== 'string') {
      seen.add(name);
      users.push({ name, role: role as Role, hash });
    }
  });
  if (problems.length > 0) throw new UsersFileError(file, problems);
  return users;
}

/** Reads the users file; a missing file means no users (only anonymous, if allowed). */
export function loadUsers(file: string): OpcuaUser[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsersFileError(file, [`cannot read: ${(error as Error).message}`]);
  }
  return parseUsers(text, file);
}

/** The user, when name and password match; constant-time in the key comparison. */
export async function verifyUser(users: readonly OpcuaUser[], name: string, password: string): Promise<OpcuaUser | undefined> {
  const user = users.find((u) => u.name === name);
  if (!user) return undefined;
  const { N, r, p, salt, key } = user.hash;
  const derived = await scryptAsync(password, salt, N, r, p, key.length);
  return timingSafeEqual(derived, key) ? user : undefined;
}
