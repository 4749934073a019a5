// Makes sure the system tools the tests drive for real are present: socat (pseudo-terminal pairs that stand in
// for RS-485 adapters) and python3 (the systemd notify-socket listener of the service tests). As root on Debian it installs what is missing; otherwise it says what to install.
import { execFileSync, spawnSync } from 'node:child_process';

const tools = [
  { command: 'socat', aptPackage: 'socat' },
  { command: 'python3', aptPackage: 'python3' },
];

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const missing = tools.filter((tool) => !has(tool.command));
if (missing.length > 0) {
  const packages = missing.map((tool) => tool.aptPackage);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && has('apt-get')) {
    console.log(`installing ${packages.join(', ')} for the tests…`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...packages], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } else {
    console.error(`The tests need: ${packages.join(', ')}. Install with: sudo apt-get install -y ${packages.join(' ')}`);
    process.exit(1);
  }
}
