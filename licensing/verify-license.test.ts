import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { issueLicense } from './issue-license.js';
import { licenseAudience, licenseIssuer, licenseTokenType } from './license-claims.js';
import { LicenseError, type LicenseErrorCode } from './license-error.js';
import { generateLicenseKeyPair, parseLicensePrivateKey, parseLicensePublicKey } from './license-keys.js';
import { verifyLicense } from './verify-license.js';

const dayMs = 86_400_000;
const nowMs = Date.UTC(2026, 10, 23, 12, 0, 0);
const vendor = generateLicenseKeyPair();
const publicKey = parseLicensePublicKey(vendor.publicKeyPem);
const privateKey = parseLicensePrivateKey(vendor.privateKeyPem);

async function refusal(promise: Promise<unknown>): Promise<LicenseError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LicenseError);
  return error as LicenseError;
}

async function expectRefused(token: string | undefined, code: LicenseErrorCode, at = nowMs): Promise<LicenseError> {
  const error = await refusal(verifyLicense({ token, publicKey, nowMs: at }));
  expect(error.code).toBe(code);
  if (token) expect(error.message).not.toContain(token);
  return error;
}

function header(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

describe('verifyLicense', () => {
  it('accepts a license signed by the vendor key and returns its licensee, expiry and limits', async () => {
    const token = await issueLicense({ privateKey, licensee: 'Acme Bank', validForDays: 365, limits: { maxOrganizations: 5, maxUsers: 1000 }, nowMs });
    expect(header(token)).toEqual({ alg: 'EdDSA', typ: licenseTokenType });
    const license = await verifyLicense({ token, publicKey, nowMs });
    expect(license).toEqual({
      licensee: 'Acme Bank',
      issuedAt: new Date(nowMs),
      expiresAt: new Date(nowMs + 365 * dayMs),
      limits: { maxOrganizations: 5, maxUsers: 1000 },
      expiringSoon: false,
    });
    expect(Object.isFrozen(license)).toBe(true);
  });

  it('verifies against a JWK public key as well as PEM', async () => {
    const jwk = JSON.stringify(createPublicKey(vendor.publicKeyPem).export({ format: 'jwk' }));
    const token = await issueLicense({ privateKey, licensee: 'Acme', validForDays: 30, nowMs });
    expect((await verifyLicense({ token, publicKey: parseLicensePublicKey(jwk), nowMs })).licensee).toBe('Acme');
  });

  it('flags a license expiring within 14 days, and not one with more left', async () => {
    const token = await issueLicense({ privateKey, licensee: 'Acme', validForDays: 20, nowMs });
    expect((await verifyLicense({ token, publicKey, nowMs })).expiringSoon).toBe(false);
    expect((await verifyLicense({ token, publicKey, nowMs: nowMs + 6 * dayMs + 1 })).expiringSoon).toBe(true);
  });

  it('refuses a missing license (undefined, empty, blank)', async () => {
    for (const token of [undefined, '', '   \n']) await expectRefused(token, 'LICENSE_MISSING');
  });

  it('refuses a malformed license (not a JWT, oversized, unsigned alg none, missing licensee)', async () => {
    await expectRefused('hello', 'LICENSE_MALFORMED');
    await expectRefused('a.b.c', 'LICENSE_MALFORMED');
    await expectRefused('x'.repeat(10_000), 'LICENSE_MALFORMED');
    const unsigned = new UnsecuredJWT({ licensee: 'Acme' }).setIssuer(licenseIssuer).setAudience(licenseAudience).setIssuedAt().setExpirationTime('1y').encode();
    expect((await refusal(verifyLicense({ token: unsigned, publicKey, nowMs }))).code).toMatch(/LICENSE_(MALFORMED|BAD_SIGNATURE)/);
    const noLicensee = await new SignJWT({ limits: {} })
      .setProtectedHeader({ alg: 'EdDSA', typ: licenseTokenType })
      .setIssuer(licenseIssuer).setAudience(licenseAudience).setIssuedAt(nowMs / 1000).setExpirationTime(nowMs / 1000 + 86_400)
      .sign(privateKey);
    const error = await expectRefused(noLicensee, 'LICENSE_MALFORMED');
    expect(error.message).toContain('licensee');
  });

  it('refuses a license of another token type (an access token signed with the same key)', async () => {
    const other = await new SignJWT({ licensee: 'Acme' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setIssuer(licenseIssuer).setAudience(licenseAudience).setIssuedAt(nowMs / 1000).setExpirationTime(nowMs / 1000 + 86_400)
      .sign(privateKey);
    await expectRefused(other, 'LICENSE_MALFORMED');
  });

  it('refuses a forged license: payload altered after signing (a longer expiry, higher limits)', async () => {
    const token = await issueLicense({ privateKey, licensee: 'Acme', validForDays: 30, limits: { maxUsers: 10 }, nowMs });
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: (claims.exp as number) + 3650 * 86_400, limits: { maxUsers: 1e6 } })).toString('base64url')}.${s}`;
    await expectRefused(forged, 'LICENSE_BAD_SIGNATURE');
  });

  it('refuses a license signed by another key (someone else\'s vendor key pair)', async () => {
    const { privateKey: otherKey } = generateKeyPairSync('ed25519');
    const token = await issueLicense({ privateKey: otherKey, licensee: 'Acme', validForDays: 365, nowMs });
    await expectRefused(token, 'LICENSE_BAD_SIGNATURE');
  });

  it('refuses a license signed with an algorithm other than EdDSA', async () => {
    const { privateKey: rsa } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await new SignJWT({ licensee: 'Acme' })
      .setProtectedHeader({ alg: 'RS256', typ: licenseTokenType })
      .setIssuer(licenseIssuer).setAudience(licenseAudience).setIssuedAt(nowMs / 1000).setExpirationTime(nowMs / 1000 + 86_400)
      .sign(rsa);
    await expectRefused(token, 'LICENSE_BAD_SIGNATURE');
  });

  it('refuses a token from another issuer or for another audience, even when signed by the vendor key', async () => {
    for (const [iss, aud] of [['someone-else', licenseAudience], [licenseIssuer, 'another-product']] as const) {
      const token = await new SignJWT({ licensee: 'Acme' })
        .setProtectedHeader({ alg: 'EdDSA', typ: licenseTokenType })
        .setIssuer(iss).setAudience(aud).setIssuedAt(nowMs / 1000).setExpirationTime(nowMs / 1000 + 86_400)
        .sign(privateKey);
      await expectRefused(token, 'LICENSE_WRONG_ISSUER');
    }
  });

  it('refuses an expired license, naming the date and the licensee', async () => {
    const token = await issueLicense({ privateKey, licensee: 'Acme Bank', validForDays: 30, nowMs });
    const error = await expectRefused(token, 'LICENSE_EXPIRED', nowMs + 31 * dayMs);
    expect(error.message).toContain(new Date(nowMs + 30 * dayMs).toISOString());
    expect(error.message).toContain('Acme Bank');
  });

  it('refuses a private key, a non-Ed25519 key or garbage as the public key', () => {
    const { publicKey: rsa } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwkPrivate = JSON.stringify(parseLicensePrivateKey(vendor.privateKeyPem).export({ format: 'jwk' }));
    for (const text of [vendor.privateKeyPem, jwkPrivate, rsa.export({ type: 'spki', format: 'pem' }).toString(), 'not a key', '{"kty":']) {
      expect(() => parseLicensePublicKey(text)).toThrow(expect.objectContaining({ code: 'LICENSE_PUBLIC_KEY_INVALID' }) as Error);
    }
  });
});
