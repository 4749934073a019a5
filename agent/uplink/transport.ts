import type { IClientOptions, IConnackPacket, MqttClient } from 'mqtt';
import type { BrokerCredentials } from './credentials.js';
import { createMqttClient } from './mqtt-client.js';
import type { OutgoingMessage } from './profile.js';

/**
 * mqtt.js as a transport only: one instance per connection, its own reconnect off, nothing queued in it
 * beyond what our window put there. When a connection ends the instance is thrown away with whatever it held;
 * the outbox still has every record that was not acknowledged.
 */

export interface TransportOptions {
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  credentials: BrokerCredentials;
  /** Verify the broker's certificate (default true; false only for a lab broker). */
  rejectUnauthorized: boolean;
  keepaliveSec: number;
  connectTimeoutMs: number;
  will: OutgoingMessage;
}

/**
 * How a QoS 1 publish ended: acknowledged; refused by the broker (PUBACK with an error reason code); or lost
 * with the connection (mqtt.js fails pending publishes with "Connection closed" before it reports the close:
 * such a message may or may not have reached the broker).
 */
export type PublishOutcome = { kind: 'acked' } | { kind: 'refused'; reasonCode: number; message: string } | { kind: 'lost'; message: string };

export interface Connection {
  /** The broker's receive maximum (MQTT 5 CONNACK), when it gave one. */
  readonly receiveMaximum: number | undefined;
  /** The largest packet the broker accepts (MQTT 5 CONNACK), when it said. */
  readonly maximumPacketSize: number | undefined;
  /** QoS 1 publish; done runs once. */
  publish(message: OutgoingMessage, done: (outcome: PublishOutcome) => void): void;
  subscribe(filters: readonly string[]): Promise<void>;
  onMessage(handler: (topic: string, payload: Buffer, retained: boolean) => void): void;
  /** Runs once, when the connection is gone for whatever reason. */
  onClose(handler: (reason: string) => void): void;
  /** Orderly goodbye (DISCONNECT): the broker drops the will. */
  end(): Promise<void>;
  /** Drop the socket at once. */
  destroy(): void;
  /** What mqtt.js holds for this connection (its queue and its unacknowledged packets), for the stats. */
  held(): { queued: number; outgoing: number };
}

/** Why a connection attempt failed, without anything secret in it. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly code: string | number | undefined,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

function clientOptions(options: TransportOptions): IClientOptions {
  const { credentials } = options;
  const will = options.will;
  return {
    clientId: options.clientId,
    protocolVersion: options.protocolVersion,
    clean: true,
    keepalive: options.keepaliveSec,
    connectTimeout: options.connectTimeoutMs,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    // Otherwise mqtt-packet pre-builds a 2-byte Buffer for each of the 65,536 packet ids and topic lengths: about
    // 6 MiB of heap that stays for the life of the process, on a gateway whose whole budget is 80 MB.
    writeCache: false,
    rejectUnauthorized: options.rejectUnauthorized,
    ...(credentials.username === undefined ? {} : { username: credentials.username }),
    ...(credentials.password === undefined ? {} : { password: credentials.password.reveal() }),
    ...(credentials.ca === undefined ? {} : { ca: credentials.ca }),
    ...(credentials.cert === undefined ? {} : { cert: credentials.cert }),
    ...(credentials.key === undefined ? {} : { key: credentials.key.reveal() }),
    will: {
      topic: will.topic,
      payload: will.payload,
      qos: 1,
      retain: will.retain,
      ...(options.protocolVersion === 5 && will.contentType ? { properties: { contentType: will.contentType } } : {}),
    },
    ...(options.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}),
    // mqtt.js logs through `debug`; keep it from printing packets (which carry the password) anywhere.
    log: () => {},
  };
}

function describe(error: unknown): { message: string; code: string | number | undefined } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { message: error.message, code: typeof code === 'string' || typeof code === 'number' ? code : undefined };
  }
  return { message: String(error), code: undefined };
}

/** Opens one connection; resolves on CONNACK, rejects on refusal, error or timeout (the client is then gone). */
export function openConnection(options: TransportOptions): Promise<Connection> {
  return new Promise((resolve, reject) => {
    let client: MqttClient;
    try {
      client = createMqttClient(options.url, clientOptions(options));
    } catch (error) {
      const { message, code } = describe(error);
      reject(new ConnectError(message, code));
      return;
    }
    let connected = false;
    let closed = false;
    let lastError: { message: string; code: string | number | undefined } | undefined;
    let closeHandler: ((reason: string) => void) | undefined;
    let messageHandler: ((topic: string, payload: Buffer, retained: boolean) => void) | undefined;

    const finish = (): void => {
      if (closed) return;
      closed = true;
      if (!connected) {
        client.end(true);
        reject(new ConnectError(lastError?.message ?? 'connection closed before CONNACK', lastError?.code));
        return;
      }
      client.end(true);
      closeHandler?.(lastError?.message ?? 'connection closed');
    };

    client.on('error', (error) => {
      lastError = describe(error);
      // With reconnect off, an error before CONNACK (refused, TLS, timeout) may not be followed by 'close'.
      if (!connected) finish();
    });
    client.on('close', finish);
    client.on('disconnect', (packet) => {
      lastError = { message: `broker sent DISCONNECT (reason ${packet.reasonCode ?? 0})`, code: packet.reasonCode };
    });
    client.on('message', (topic, payload, packet) => {
      try {
        messageHandler?.(topic, payload, packet.retain);
      } catch {
        // The handler guards itself; nothing from a message may reach mqtt.js's stream.
      }
    });
    client.on('connect', (connack: IConnackPacket) => {
      if (closed) return;
      connected = true;
      const props = connack.properties;
      const connection: Connection = {
        receiveMaximum: props?.receiveMaximum,
        maximumPacketSize: props?.maximumPacketSize,
        publish(message, done) {
          let called = false;
          const once = (error: Error | undefined): void => {
            if (called) return;
            called = true;
            const code = (error as { code?: unknown } | undefined)?.code;
            if (!error) done({ kind: 'acked' });
            else if (typeof code === 'number' && code >= 0x80) done({ kind: 'refused', reasonCode: code, message: error.message });
            else done({ kind: 'lost', message: error.message });
          };
          try {
            client.publish(
              message.topic,
              message.payload,
              {
                qos: message.qos ?? 1,
                retain: message.retain,
                ...(options.protocolVersion === 5 && message.contentType ? { properties: { contentType: message.contentType } } : {}),
              },
              (error) => once(error ?? undefined),
            );
          } catch (error) {
            once(error instanceof Error ? error : new Error(String(error)));
          }
        },
        subscribe(filters) {
          return new Promise((res, rej) => {
            client.subscribe([...filters], { qos: 1 }, (error, granted) => {
              if (error) return rej(error);
              const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
              if (refused.length > 0) return rej(new Error(`subscription refused: ${refused.join(', ')}`));
              res();
            });
          });
        },
        onMessage(handler) {
          messageHandler = handler;
        },
        onClose(handler) {
          closeHandler = handler;
          if (closed) handler(lastError?.message ?? 'connection closed');
        },
        end() {
          return new Promise((res) => {
            if (closed) return res();
            client.end(false, {}, () => res());
          });
        },
        destroy() {
          lastError ??= { message: 'dropped by the uplink', code: undefined };
          finish();
        },
        held() {
          return { queued: client.queue.length, outgoing: Object.keys(client.outgoing).length };
        },
      };
      resolve(connection);
    });
  });
}
