import { z } from 'zod';

/** Where one platform's broker is and how to log in; secrets stay in files on the machine. */
export const platformBroker = z
  .strictObject({
    url: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^\s@/]+(:\d+)?(\/\S*)?$/, 'an mqtt://, mqtts://, ws:// or wss:// URL without user info')
      .meta({ description: 'Broker URL, e.g. "mqtts://iot.example.gov.cn:8883". No credentials in it.' }),
    protocol: z.enum(['5', '3.1.1']).default('5').meta({ description: 'MQTT protocol version.' }),
    clientId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .meta({ description: 'MQTT client id; default: what the profile requires (its device id), else the gateway id.' }),
    usernameFile: z.string().min(1).optional().meta({ description: 'File holding the user name.' }),
    passwordFile: z.string().min(1).optional().meta({ description: 'File holding the password (or API key / device secret).' }),
    caFile: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust for mqtts/wss.' }),
    certFile: z.string().min(1).optional().meta({ description: 'Client certificate (PEM) for mutual TLS.' }),
    keyFile: z.string().min(1).optional().meta({ description: 'Client private key (PEM) for mutual TLS.' }),
    keepaliveSec: z.number().int().min(5).max(3600).default(30).meta({ description: 'MQTT keep-alive in seconds.' }),
  })
  .meta({ description: "This platform's MQTT broker." });

export type PlatformBroker = z.output<typeof platformBroker>;

const ACTIONS = ['acknowledge', 'reset', 'silence', 'force', 'release', 'set-baseline', 'push-config'] as const;

export const platformCommands = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Subscribe to and run commands from this platform.' }),
    allow: z
      .array(z.enum(ACTIONS))
      .optional()
      .meta({
        description:
          'Operator actions this platform may run; default: what its protocol can express. Leave out force/release unless the platform is trusted to move relays.',
      }),
  })
  .meta({ description: 'Commands from this platform.' });

export type PlatformCommands = z.output<typeof platformCommands>;
