import { z } from 'zod';
import type { Caller } from '../../platform/http/caller.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { SubjectProfile } from '../../directory/subject-profiles.js';
import type { UpstreamProfiles } from '../identity-providers/upstream-userinfo.js';

/** The profile of a token's subject in its tenant; undefined when the subject is gone. */
export type ProfileLookup = (caller: Caller) => Promise<SubjectProfile | undefined>;

const contractUserinfo = z
  .object({
    sub: z.string(),
    name: z.string(),
    preferredUsername: z.string(),
    email: z.string(),
    emailVerified: z.boolean(),
    picture: z.string(),
    profile: z.string(),
  })
  .meta({ id: 'Userinfo' });
const oidcUserinfo = z
  .object({
    sub: z.string(),
    name: z.string(),
    preferred_username: z.string(),
    email: z.string().optional(),
    email_verified: z.boolean().optional(),
    picture: z.string().optional(),
    profile: z.string().optional(),
  })
  .meta({ id: 'OidcUserinfo' });

interface Profile {
  readonly sub: string;
  readonly name: string;
  readonly preferredUsername: string;
  readonly email: string | undefined;
}

async function profileOf(deps: UserinfoParts, caller: Caller): Promise<Profile> {
  let found: SubjectProfile | undefined;
  try {
    found = await deps.profileOf(caller);
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'userinfo read failed', cause: error });
  }
  if (!found) throw new ServiceError('TOKEN_INVALID', { detail: `${caller.kind === 'application' ? 'application' : 'user'} no longer exists` });
  return { sub: caller.id, name: found.name, preferredUsername: found.username, email: found.email };
}

export interface UserinfoParts {
  readonly profileOf: ProfileLookup;
  /** What the external provider adds (oidc mode); undefined answers in builtin mode. */
  readonly upstreamProfileOf: UpstreamProfiles;
}

/**
 * The contract's camelCase userinfo at `/v1/userinfo`; OIDC Core 5.3 claim names at `/oauth/userinfo` (GET and
 * POST), the one discovery names.
 * `emailVerified` is false: addresses are not verified by this service, and no picture or profile URL is kept,
 * except in oidc mode, where the provider's userinfo is asked too (identity-providers/upstream-userinfo.ts).
 */
export function userinfoRoutes(deps: UserinfoParts): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/userinfo',
      summary: 'Who the token belongs to',
      tags: ['userinfo'],
      auth: 'token',
      responses: { 200: { description: 'The profile', schema: contractUserinfo } },
      async handler({ caller }) {
        const p = await profileOf(deps, caller);
        const up = await deps.upstreamProfileOf(caller, p.email);
        return {
          body: {
            sub: p.sub,
            name: p.name,
            preferredUsername: p.preferredUsername,
            email: p.email ?? '',
            emailVerified: up?.emailVerified ?? false,
            picture: up?.picture ?? '',
            profile: up?.profile ?? '',
          },
          headers: { 'Cache-Control': 'no-store' },
        };
      },
    }),
    // OIDC Core 5.3.1: the UserInfo endpoint answers GET and POST alike (the token in Authorization either way).
    ...(['get', 'post'] as const).map((method) =>
      defineRoute({
        method,
        path: '/oauth/userinfo',
        summary: 'OpenID Connect userinfo (standard claim names)',
        tags: ['userinfo'],
        auth: 'token',
        responses: { 200: { description: 'OIDC claims', schema: oidcUserinfo } },
        async handler({ caller }) {
          const p = await profileOf(deps, caller);
          const up = await deps.upstreamProfileOf(caller, p.email);
          return {
            body: {
              sub: p.sub,
              name: p.name,
              preferred_username: p.preferredUsername,
              ...(p.email ? { email: p.email, email_verified: up?.emailVerified ?? false } : {}),
              ...(up?.picture ? { picture: up.picture } : {}),
              ...(up?.profile ? { profile: up.profile } : {}),
            },
            headers: { 'Cache-Control': 'no-store' },
          };
        },
      }),
    ),
  ];
}
