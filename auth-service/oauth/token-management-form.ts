import { z } from 'zod';
import { maxTokenLength } from '../../platform/auth/bearer-token.js';
import { clientIdField, clientSecretField } from '../tokens/token-fields.js';

/**
 * The form of the revocation (RFC 7009 2.1) and introspection (RFC 7662 2.1) endpoints. Not strict: both RFCs
 * say unknown parameters are ignored; every field read is bounded. `token_type_hint` is any short word, since an
 * unknown hint only means "search everywhere".
 */
export const tokenManagementForm = z.object({
  token: z.string().min(1).max(maxTokenLength),
  token_type_hint: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_.:-]*$/, 'a token type name')
    .optional(),
  client_id: clientIdField.optional(),
  client_secret: clientSecretField.optional(),
});
