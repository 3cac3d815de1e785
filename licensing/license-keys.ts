import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { LicenseError } from './license-error.js';

/**
 * The vendor's Ed25519 public key from PEM (SPKI) or JWK text. A private key is refused, even though its
 * public half could be derived: a verifying service must never be handed the signing key.
 */
export function parseLicensePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as JsonWebKey;
      if (jwk.d !== undefined) throw new LicenseError('LICENSE_PUBLIC_KEY_INVALID', 'the JWK is a private key');
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } else {
      if (/PRIVATE KEY/.test(trimmed)) throw new LicenseError('LICENSE_PUBLIC_KEY_INVALID', 'the PEM is a private key');
      key = createPublicKey({ key: trimmed, format: 'pem' });
    }
  } catch (error) {
    if (error instanceof LicenseError) throw error;
    throw new LicenseError('LICENSE_PUBLIC_KEY_INVALID', 'not a PEM or JWK public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new LicenseError('LICENSE_PUBLIC_KEY_INVALID', `an ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  }
  return key;
}

/** The vendor's Ed25519 signing key from PEM (PKCS#8). */
export function parseLicensePrivateKey(pem: string): KeyObject {
  const key = createPrivateKey({ key: pem, format: 'pem' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the signing key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  return key;
}

/** A fresh Ed25519 key pair as PEM: the private half signs licenses, the public half goes into LICENSE_PUBLIC_KEY. */
export function generateLicenseKeyPair(): { readonly publicKeyPem: string; readonly privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
