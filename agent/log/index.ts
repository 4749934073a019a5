import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

/** pino-pretty is loaded only for a terminal: the service logs JSON and need not hold it in memory. */
const loadPretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

export type { Logger } from 'pino';

/** Keys whose values never reach a log, wherever they sit in a logged object. */
const SECRET_PATHS = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'apiKey',
  'key',
  'hmacKey',
  '*.password',
  '*.passwd',
  '*.secret',
  '*.token',
  '*.apikey',
  '*.apiKey',
  '*.key',
  '*.hmacKey',
  '*.*.password',
  '*.*.secret',
  '*.*.token',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Human-readable colour output; defaults to whether stdout is a terminal. JSON otherwise, for journald. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  const wantPretty = options.pretty ?? Boolean(process.stdout.isTTY);
  if (wantPretty) {
    // Synchronous pretty stream in this thread: a terminal is a person watching, not a hot path.
    return pino(
      base,
      loadPretty()({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: options.destination ?? 1 }),
    );
  }
  return pino(base, options.destination ?? pino.destination({ sync: false }));
}

/** A logger that drops everything; for tools and tests that must stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
