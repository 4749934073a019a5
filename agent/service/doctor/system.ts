import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/** Runs a tool with a deadline; resolves with its stdout, or undefined when it is missing, fails or is late. */
export function tryRun(command: string, args: readonly string[], timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout) => resolve(error ? undefined : stdout));
  });
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** /etc/group as entries (no NSS lookup: a gateway keeps its groups there). */
export function readGroups(file = '/etc/group'): GroupEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.includes(':'))
    .map((line) => {
      const [name = '', , gid = '', members = ''] = line.split(':');
      return { name, gid: Number(gid), members: members.split(',').filter((m) => m !== '') };
    });
}

/** The name of a user id, from /etc/passwd. */
export function userName(uid: number, file = '/etc/passwd'): string | undefined {
  try {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(uid));
    return line?.split(':')[0];
  } catch {
    return undefined;
  }
}

/** The primary group id of a user from /etc/passwd, or undefined when there is no such user. */
export function primaryGid(user: string, file = '/etc/passwd'): number | undefined {
  try {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`));
    return line ? Number(line.split(':')[3]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a user belongs to a group (as primary or supplementary group). */
export function userInGroup(user: string, gid: number, groups: readonly GroupEntry[]): boolean {
  if (primaryGid(user) === gid) return true;
  return groups.some((group) => group.gid === gid && group.members.includes(user));
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '?');
  }
}
