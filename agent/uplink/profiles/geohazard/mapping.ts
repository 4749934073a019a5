import { parseGeohazardMapping } from '../../../../config/schema/index.js';

/** Where one of our channels goes on the platform. */
export interface ChannelTarget {
  channelId: string;
  /** The platform's sensor id, e.g. "L1_QJ_1". */
  code: string;
  /** Monitoring type and method, e.g. "L1_QJ". */
  type: string;
  /** For codes whose value is an object ("X", "angle", …). */
  component?: string;
}

/** The options' channel mapping, both ways. */
export class ChannelMap {
  private readonly byChannel = new Map<string, ChannelTarget>();
  private readonly byCode = new Map<string, ChannelTarget[]>();

  constructor(mapping: Readonly<Record<string, string>>) {
    for (const [channelId, text] of Object.entries(mapping)) {
      const parsed = parseGeohazardMapping(text);
      // The schema has refused anything else; a mapping that slipped through is simply not sent.
      if (!parsed) continue;
      const target: ChannelTarget = {
        channelId,
        code: parsed.code,
        type: parsed.code.replace(/_\d+$/, ''),
        ...(parsed.component === undefined ? {} : { component: parsed.component }),
      };
      this.byChannel.set(channelId, target);
      const list = this.byCode.get(parsed.code) ?? [];
      list.push(target);
      this.byCode.set(parsed.code, list);
    }
  }

  target(channelId: string): ChannelTarget | undefined {
    return this.byChannel.get(channelId);
  }

  /** The mapped codes, in the order the config lists them. */
  codes(): string[] {
    return [...this.byCode.keys()];
  }

  channelsOf(code: string): readonly ChannelTarget[] {
    return this.byCode.get(code) ?? [];
  }

  targets(): readonly ChannelTarget[] {
    return [...this.byChannel.values()];
  }
}
