// The license gate's public surface: verify at start, report on health, issue and verify for vendors (the CLI).
export { issueLicense, type IssueLicenseOptions } from './issue-license.js';
export { expiringSoonMs, licenseIssuer, type License, type LicenseLimits } from './license-claims.js';
export { licenseConfigShape, type LicenseSettings } from './license-config.js';
export { LicenseError, isLicenseError, type LicenseErrorCode } from './license-error.js';
export { ensureLicenseKeyPair } from './license-key-files.js';
export { generateLicenseKeyPair, parseLicensePrivateKey, parseLicensePublicKey } from './license-keys.js';
export { licenseStatusAt, licenseWarningAt, type LicenseStatus } from './license-status.js';
export { loadLicense } from './load-license.js';
export { verifyLicense, type VerifyLicenseOptions } from './verify-license.js';
export { watchLicense, type LicenseWatchOptions } from './license-watch.js';
