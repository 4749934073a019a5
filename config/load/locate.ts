import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the nearest folder at or above `from` holding package.json and drivers/profiles. Walking
 * up works the same from the TypeScript sources (config/load/) and from the compiled tree (dist/config/load/),
 * which tsc does not copy the YAML profiles into.
 */
export function findPackageRoot(from: string): string | undefined {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'drivers', 'profiles'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Where Vigil is installed (found from this module's own location). */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = findPackageRoot(here);
  if (root === undefined) throw new Error(`vigil: no package root (a folder with drivers/profiles) above ${here}`);
  return root;
}

/** The folder of driver profiles shipped with Vigil. */
export function shippedProfileDir(): string {
  return join(packageRoot(), 'drivers', 'profiles');
}
