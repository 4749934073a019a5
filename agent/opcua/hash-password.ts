/**
 * Prints one line for the OPC UA users file: `name:role:scrypt$…`. The password is read from stdin (one line),
 * so it never appears in the shell history or the process list.
 *
 *   printf '%s\n' "$PASSWORD" | node dist/agent/opcua/hash-password.js alice operator >> /var/lib/vigil/opcua/users
 */
import { createInterface } from 'node:readline';
import { ROLES, hashPassword, parseUsers } from './users.js';

async function readLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

async function main(): Promise<number> {
  const [name, role] = process.argv.slice(2);
  if (!name || !role || !(ROLES as readonly string[]).includes(role)) {
    process.stderr.write(`usage: hash-password NAME ${ROLES.join('|')}  (password on stdin)\n`);
    return 2;
  }
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const password = await readLine();
  if (password.length < 8) {
    process.stderr.write('password: at least 8 characters\n');
    return 2;
  }
  const line = `${name}:${role}:${await hashPassword(password)}`;
  try {
    parseUsers(line, 'new line');
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  process.stdout.write(line + '\n');
  return 0;
}

process.exitCode = await main();
