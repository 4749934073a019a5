import type { Link, Transport } from './link.js';
import { SerialLink } from './serial-link.js';
import { TcpLink } from './tcp-link.js';

/** A fresh, unopened link for one connection attempt. */
export function createLink(transport: Transport): Link {
  return transport.kind === 'serial'
    ? new SerialLink(transport.path, transport.line)
    : new TcpLink(transport.host, transport.port);
}
