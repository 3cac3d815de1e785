import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import type { z } from 'zod';
import type { Caller } from './caller.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteResult {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a handler of a route open to anyone (`auth: 'none'`) gets: its parsed input, and no caller. */
export interface OpenRouteContext<P, Q, B, R extends IncomingMessage = Request> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly requestId: string;
  /**
   * For the few headers a handler reads itself (If-Match); everything else comes parsed above. A lean route's
   * handler sees Node's own request (no express additions): it may be served ahead of express.
   */
  readonly req: R;
}

/** What a handler of a token-guarded route (`auth: 'token'`) gets: its input and the authenticated caller. */
export interface RouteContext<P, Q, B, R extends IncomingMessage = Request> extends OpenRouteContext<P, Q, B, R> {
  readonly caller: Caller;
}

export interface RouteResponseSpec {
  readonly description: string;
  readonly schema?: z.ZodType;
}

/** What a caller must be allowed (engine resource and action) to reach a route. */
export interface RoutePermission {
  readonly resource: string;
  readonly action: string;
}

interface RouteSpecBase<P, Q, B> {
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  readonly responses: Readonly<Record<number, RouteResponseSpec>>;
  /** Set by defineLeanRoute: the route may be served by the lean routes, ahead of express (see lean-routes.ts). */
  readonly lean?: true;
}

/** A route that needs a token: its handler gets the caller, and the route may name the permission it needs. */
export interface TokenRouteSpec<P = unknown, Q = unknown, B = unknown, R extends IncomingMessage = Request> extends RouteSpecBase<P, Q, B> {
  readonly auth: 'token';
  /** Accept the token without the `Bearer ` scheme (Lerian's clients forward the raw header to /v1/authorize). */
  readonly bareToken?: boolean;
  /**
   * Checked with the engine after authentication. A fixed permission is checked before the input is read, so a
   * caller without it learns nothing of the route's input rules; a function (for routes whose permission
   * depends on the input) after the input is parsed.
   */
  readonly permission?: RoutePermission | ((ctx: RouteContext<P, Q, B, R>) => RoutePermission | undefined);
  readonly handler: (ctx: RouteContext<P, Q, B, R>) => Promise<RouteResult>;
}

/** A route anyone may call (token grants, discovery): its handler has no caller to read. */
export interface OpenRouteSpec<P = unknown, Q = unknown, B = unknown> extends RouteSpecBase<P, Q, B> {
  readonly auth: 'none';
  readonly handler: (ctx: OpenRouteContext<P, Q, B>) => Promise<RouteResult>;
}

/**
 * One HTTP route: its zod schemas are the single source of validation, of the handler's types and of the
 * OpenAPI document. The path is written OpenAPI-style (`/v1/users/{id}`).
 */
export type RouteSpec<P = unknown, Q = unknown, B = unknown> = TokenRouteSpec<P, Q, B> | OpenRouteSpec<P, Q, B>;

/** Keeps each route's schema and handler types tied together. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> {
  return spec;
}

/**
 * A token route whose handler reads only Node's own request, so it can be served ahead of express on the same
 * listener with the same behaviour (see leanRoutes); express serves it too.
 */
export function defineLeanRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: Omit<TokenRouteSpec<P, Q, B, IncomingMessage>, 'lean'>): TokenRouteSpec<P, Q, B, IncomingMessage> & { readonly lean: true } {
  return { ...spec, lean: true };
}

// The registry holds routes of many shapes; their types were checked where each was defined.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any> | LeanRoute;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LeanRoute = TokenRouteSpec<any, any, any, IncomingMessage> & { readonly lean: true };

export function isLeanRoute(route: AnyRoute): route is LeanRoute {
  return route.lean === true;
}
