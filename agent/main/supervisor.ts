import { copyFileSync, existsSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatErrors, loadSite, loadSiteText, type Settings } from '../../config/index.js';
import type { Profile, Site } from '../../config/schema/index.js';
import type { CommandResult } from '../commands/index.js';
import type { Logger } from '../log/index.js';
import { startAgent, type RunningAgent } from './agent.js';

export interface SupervisorOptions {
  siteFile: string;
  settings: Settings;
  logger: Logger;
  version: string;
  /** A pushed config is kept only if, within this time, it polls a good reading and (with a broker) connects. */
  rollbackAfterMs?: number;
}

type Loaded = { site: Site; profiles: Map<string, Profile> };

/** Writes a file so that a power cut leaves either the old or the new one, never half of each. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.incoming`;
  const handle = await open(temp, 'w', 0o640);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Runs the agent on the site file and owns config pushed by the platform: a pushed site is validated exactly
 * like `vigil check`, written atomically (the running one kept as .previous), applied, and rolled back by
 * itself if the new config cannot poll (and, with a broker, connect) within the rollback time. A bad config
 * never replaces a good one.
 */
export class AgentSupervisor {
  private agent: RunningAgent | undefined;
  private applying = false;
  private watch: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly rollbackAfterMs: number;

  constructor(private readonly options: SupervisorOptions) {
    this.rollbackAfterMs = options.rollbackAfterMs ?? 120_000;
  }

  get running(): RunningAgent | undefined {
    return this.agent;
  }

  /** Starts on the site file; the caller has validated it (vigil run refuses an invalid one). */
  async start(loaded: Loaded): Promise<RunningAgent> {
    this.agent = await this.launch(loaded);
    return this.agent;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.watch);
    await this.agent?.stop();
    this.agent = undefined;
  }

  private launch(loaded: Loaded): Promise<RunningAgent> {
    const { settings, logger, version } = this.options;
    return startAgent({
      site: loaded.site,
      profiles: loaded.profiles,
      logger,
      dataDir: settings.dataDir,
      settings,
      version,
      pushConfig: (command, context) => this.push(command, context),
    });
  }

  private async push(command: Readonly<Record<string, unknown>>, context: { id: string; by: string }): Promise<CommandResult> {
    const { siteFile, logger } = this.options;
    const text = command.site;
    const unknown = Object.keys(command).filter((key) => key !== 'action' && key !== 'site');
    if (typeof text !== 'string' || unknown.length > 0) {
      return { ok: false, action: 'push-config', error: 'push-config takes exactly { action: "push-config", site: "<the site file as YAML text>" }' };
    }
    if (this.applying) return { ok: false, action: 'push-config', error: 'another config is being applied; try again once it has settled' };
    const checked = loadSiteText(text, siteFile);
    if (!checked.ok) {
      const shown = checked.errors.slice(0, 10);
      return {
        ok: false,
        action: 'push-config',
        error: `the pushed site is invalid (${checked.errors.length} error(s)); nothing was changed:\n${formatErrors(shown, { color: false })}`,
      };
    }
    this.applying = true;
    const previous = `${siteFile}.previous`;
    if (existsSync(siteFile)) copyFileSync(siteFile, previous);
    await writeAtomically(siteFile, text);
    logger.warn({ command: context.id, by: context.by }, 'new site config pushed: applying');
    // Answer first, then switch: the result travels on the uplink that is about to be restarted.
    setTimeout(() => void this.apply(toLoaded(checked), previous), 500);
    return {
      ok: true,
      action: 'push-config',
      message: `applying; rolled back by itself unless it polls${this.options.settings.mqtt.url ? ' and connects' : ''} within ${Math.round(this.rollbackAfterMs / 1000)} s`,
    };
  }

  private async apply(next: Loaded, previous: string): Promise<void> {
    const { logger } = this.options;
    if (this.stopped) return;
    await this.agent?.stop();
    this.agent = await this.launch(next);
    const deadline = Date.now() + this.rollbackAfterMs;
    const check = (): void => {
      if (this.stopped || !this.agent) return;
      if (this.provenWorking(this.agent)) {
        this.applying = false;
        logger.info('pushed site config is working: kept');
        return;
      }
      if (Date.now() < deadline) {
        this.watch = setTimeout(check, 500);
        return;
      }
      void this.rollback(previous, next);
    };
    this.watch = setTimeout(check, 500);
  }

  private provenWorking(agent: RunningAgent): boolean {
    const polled = agent.latest.all().some((reading) => reading.quality === 'good');
    const connected = !this.options.settings.mqtt.url || agent.uplink?.uplink?.stats().state === 'online';
    return polled && connected;
  }

  private async rollback(previous: string, pushed: Loaded): Promise<void> {
    const { siteFile, logger } = this.options;
    logger.error({ rollbackAfterMs: this.rollbackAfterMs }, 'pushed site config did not poll or connect in time: rolling back');
    if (existsSync(previous)) await rename(previous, siteFile);
    const loaded = loadSite(siteFile);
    await this.agent?.stop();
    // The previous file was valid when it ran; should it not load now, run the pushed one rather than nothing.
    if (!loaded.ok) logger.fatal('previous site config no longer valid: running the pushed one');
    this.agent = await this.launch(loaded.ok ? toLoaded(loaded) : pushed);
    this.applying = false;
  }
}

function toLoaded(result: { site: Site; profiles: ReadonlyMap<string, { profile: Profile }> }): Loaded {
  return { site: result.site, profiles: new Map([...result.profiles].map(([id, entry]) => [id, entry.profile])) };
}
