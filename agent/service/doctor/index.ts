import { TIMESYNC_FLAG_FILE } from '../../clock/index.js';
import { checkBroker, checkClock, checkDataDir, checkDisk, checkGpio, checkNode, checkSerial, checkService, checkSettings, checkSite, type DoctorEnvironment } from './checks.js';
import { existsSync } from 'node:fs';
import { readEnvFile, SERVICE_ENV_FILE } from './env-file.js';
import { checkPlatformBrokers } from './platforms.js';
import type { CheckResult, CheckStatus, DoctorReport } from './types.js';

export type { CheckResult, CheckStatus, DoctorReport } from './types.js';
export type { DoctorEnvironment } from './checks.js';
export { formatReport } from './format.js';

export interface DoctorOptions {
  env: NodeJS.ProcessEnv;
  /** The site file; default: the VIGIL_SITE setting. */
  siteFile?: string;
  /** A settings file (as `vigil run --settings`). */
  settingsFile?: string;
  /** The service's VIGIL_* file; default /etc/vigil/vigil.env when it exists. Variables in env override it. */
  envFile?: string;
  brokerTimeoutMs?: number;
  serviceUser?: string;
  devDir?: string;
  timesyncFlag?: string;
}

/** Checks a gateway in place, in the order a technician would fix things. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const environment: DoctorEnvironment = {
    env: options.env,
    serviceUser: options.serviceUser ?? 'vigil',
    devDir: options.devDir ?? '/dev',
    timesyncFlag: options.timesyncFlag ?? TIMESYNC_FLAG_FILE,
    brokerTimeoutMs: options.brokerTimeoutMs ?? 5000,
  };
  const checks: CheckResult[] = [checkNode()];
  // As the service sees it: its settings file first, then whatever the caller exported.
  const envFile = options.envFile ?? (existsSync(SERVICE_ENV_FILE) ? SERVICE_ENV_FILE : undefined);
  const fromFile = envFile ? readEnvFile(envFile) : undefined;
  const exported = Object.fromEntries(Object.entries(options.env).filter(([, value]) => value !== undefined && value !== ''));
  environment.env = { ...(fromFile?.ok ? fromFile.vars : {}), ...exported };
  const { result: settingsResult, settings } = checkSettings(environment.env, options.settingsFile);
  if (fromFile && settingsResult.status === 'ok') settingsResult.detail += `; with ${envFile}`;
  if (fromFile && !fromFile.ok) {
    Object.assign(settingsResult, {
      status: settingsResult.status === 'fail' ? 'fail' : 'warn',
      detail: `${settingsResult.detail}; ${fromFile.error}, so its settings are not seen here`,
      hint: settingsResult.hint ?? 'run sudo vigil doctor, to see the settings as the service does',
    });
  }
  checks.push(settingsResult);
  const { result: siteResult, site } = checkSite(options.siteFile ?? settings.siteFile);
  checks.push(siteResult);
  checks.push(guard('serial', 'Serial ports', () => checkSerial(site, environment)));
  checks.push(guard('gpio', 'GPIO chips', () => checkGpio(site, environment)));
  checks.push(await guardAsync('clock', 'Clock sync', () => checkClock(environment)));
  checks.push(guard('disk', 'Disk space', () => checkDisk(settings)));
  checks.push(guard('data-dir', 'Data folder', () => checkDataDir(settings, environment)));
  // A site that lists platforms connects to them, not to the VIGIL_MQTT_* broker (agent/main/uplink.ts).
  if (site?.platforms && site.platforms.length > 0) checks.push(...(await checkPlatformBrokers(site.platforms, environment)));
  else checks.push(await guardAsync('broker', 'Broker', () => checkBroker(settings, environment)));
  checks.push(await guardAsync('service', 'Service', () => checkService()));
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) counts[check.status] += 1;
  return { ok: counts.fail === 0, counts, checks };
}

/** A check that throws is a failed check with its error, never a crashed doctor. */
function guard(id: string, title: string, check: () => CheckResult): CheckResult {
  try {
    return check();
  } catch (error) {
    return crashed(id, title, error);
  }
}

async function guardAsync(id: string, title: string, check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check();
  } catch (error) {
    return crashed(id, title, error);
  }
}

function crashed(id: string, title: string, error: unknown): CheckResult {
  return { id, title, status: 'fail', detail: `the check itself failed: ${error instanceof Error ? error.message : String(error)}`, hint: 'run it again; if it persists, report it with this output' };
}
