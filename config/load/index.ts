/** Loading and checking site files and driver profiles: the one door through which configuration enters. */
export type { ConfigError, FormatOptions } from './config-error.js';
export { formatErrors } from './config-error.js';
export type { LoadedProfile, ProfileCheck } from './profiles.js';
export { checkProfileFile, checkProfileText, loadProfiles } from './profiles.js';
export type { CheckResult, LoadSiteOptions } from './site.js';
export { loadSite, loadSiteText } from './site.js';
export { findPackageRoot, packageRoot, shippedProfileDir } from './locate.js';
