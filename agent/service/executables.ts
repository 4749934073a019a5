import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The full path of a command found on PATH (executable by this user), like `command -v`; undefined if none. */
export function findExecutable(name: string, path: string | undefined = process.env.PATH): string | undefined {
  const dirs = (path ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin').split(delimiter).filter((dir) => dir !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: try the next folder
    }
  }
  return undefined;
}
