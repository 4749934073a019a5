import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the package is installed. Found by walking up from this module, so it works the same from the
 * TypeScript sources (config/load/) and from the compiled tree (dist/config/load/), which tsc does not copy
 * the YAML profiles into.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'drivers', 'profiles'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('vigil: cannot find the package root (a folder with drivers/profiles)');
    dir = parent;
  }
}

/** The folder of driver profiles shipped with Vigil. */
export function shippedProfileDir(): string {
  return join(packageRoot(), 'drivers', 'profiles');
}
