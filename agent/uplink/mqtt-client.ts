import { connect as mqttConnect, MqttClient, type IClientOptions } from 'mqtt';
import { createRequire } from 'node:module';
import { createConnection, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** node:tls is loaded when a TLS connection is first made (about 0.4 MiB of heap a plain mqtt:// site never needs). */
const requireBuiltin = createRequire(import.meta.url);

/**
 * An mqtt.js client for a broker URL, its stream built here for mqtt:// and mqtts://. mqtt.js's own connect()
 * loads every transport it knows on first use, the WebSocket one (the ws package) included, whatever the URL:
 * about 1.4 MiB of heap for the life of the process, on a gateway whose whole budget is 80 MB. ws:// and wss://
 * still go through connect(), so that cost is paid only where it is used.
 *
 * What connect() does for these two schemes is kept: default ports 1883 / 8883, a client certificate turns
 * mqtt:// into TLS, the server name is the host unless it is an address, and a TLS failure is reported on the
 * client (and ends the socket) when the certificate is being verified.
 */
export function createMqttClient(url: string, options: IClientOptions): MqttClient {
  const parsed = new URL(url);
  const scheme = parsed.protocol.replace(/:$/, '');
  if (scheme !== 'mqtt' && scheme !== 'mqtts') return mqttConnect(url, options);
  const secure = scheme === 'mqtts' || (options.cert !== undefined && options.key !== undefined);
  // WHATWG URL keeps the brackets of an IPv6 literal; sockets want the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = parsed.port !== '' ? Number(parsed.port) : secure ? 8883 : 1883;
  const protocol = secure ? 'mqtts' : 'mqtt';
  const clientOptions: IClientOptions = { ...options, protocol, host, hostname: host, port };
  // The client calls the builder from its own constructor, with itself.
  const client = new MqttClient((self) => (secure ? tlsStream(self, clientOptions) : createConnection({ host, port })), clientOptions);
  // As connect() does: errors reach the listeners the caller adds; none must crash the process meanwhile.
  client.on('error', () => {});
  return client;
}

function tlsStream(client: MqttClient, options: IClientOptions): TLSSocket {
  const host = options.host!;
  const verify = options.rejectUnauthorized !== false;
  const { connect: tlsConnect } = requireBuiltin('node:tls') as typeof import('node:tls');
  const socket = tlsConnect({
    host,
    port: options.port!,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    rejectUnauthorized: verify,
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
  });
  const onTlsError = (error: Error): void => {
    if (verify) client.emit('error', error);
    socket.end();
  };
  socket.on('secureConnect', () => {
    if (verify && !socket.authorized) socket.emit('error', new Error('TLS not authorized'));
    else socket.removeListener('error', onTlsError);
  });
  socket.on('error', onTlsError);
  return socket;
}
