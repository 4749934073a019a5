import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A credential (password, private key, HMAC key) that cannot leak by accident: it prints, serialises and
 * inspects as "[redacted]"; only reveal() gives the value, at the one place that hands it to TLS or MQTT.
 */
export class Secret {
  readonly #value: Buffer;

  constructor(value: string | Buffer) {
    this.#value = Buffer.isBuffer(value) ? Buffer.from(value) : Buffer.from(value, 'utf8');
  }

  reveal(): Buffer {
    return this.#value;
  }

  revealText(): string {
    return this.#value.toString('utf8');
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
