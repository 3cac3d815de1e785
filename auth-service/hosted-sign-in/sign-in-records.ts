import type pg from 'pg';
import { issueAuthorizationCode, type NewAuthorizationCode } from './authorization-codes.js';
import {
  createAuthorizationRequest,
  endAuthorizationRequest,
  setRequestMfa,
  takeAuthorizationRequest,
  type AuthorizationRequest,
  type NewAuthorizationRequest,
  type PendingMfa,
} from './authorization-requests.js';
import { findClientRegistration, type ClientRegistration } from '../../directory/client-registrations.js';

/** What the hosted sign-in page keeps between its steps: the client it is for, its request, and the code it ends with. */
export interface SignInRecords {
  findClient(clientId: string): Promise<ClientRegistration | undefined>;
  createRequest(request: NewAuthorizationRequest, browserSecret: string, nowMs: number): Promise<{ request: AuthorizationRequest; formToken: string }>;
  /** Spends the page's form token (single use); undefined when the request is gone, expired or another browser's. */
  takeRequest(input: { id: string; browserSecret: string; formToken: string; nowMs: number }): Promise<{ request: AuthorizationRequest; formToken: string } | undefined>;
  setRequestMfa(id: string, mfa: PendingMfa | undefined): Promise<void>;
  endRequest(id: string): Promise<void>;
  issueCode(code: NewAuthorizationCode): Promise<string>;
}

/** The SignInRecords kept in PostgreSQL (`authorization_requests`, `authorization_codes`, the applications' registrations). */
export function signInRecordsIn(database: pg.Pool): SignInRecords {
  return {
    findClient: (clientId) => findClientRegistration(database, clientId),
    createRequest: (request, browserSecret, nowMs) => createAuthorizationRequest(database, request, browserSecret, nowMs),
    takeRequest: (input) => takeAuthorizationRequest(database, input),
    setRequestMfa: (id, mfa) => setRequestMfa(database, id, mfa),
    endRequest: (id) => endAuthorizationRequest(database, id),
    issueCode: (code) => issueAuthorizationCode(database, code),
  };
}
