// The few parts of oidc-provider (which ships no types) that the test provider uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ProviderContext {
    readonly oidc: {
      readonly params: Record<string, unknown>;
      readonly client: { readonly clientId: string };
      readonly provider: Provider;
    };
  }

  interface Saveable {
    save(): Promise<string>;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    registerGrantType(name: string, handler: (ctx: ProviderContext & { body: unknown }) => Promise<void>, params?: readonly string[]): void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    readonly Grant: (new (values: { accountId: string; clientId: string }) => Saveable & { addOIDCScope(scope: string): void }) & {
      find(id: string): Promise<{ destroy(): Promise<void> } | undefined>;
    };
    readonly RefreshToken: new (values: Record<string, unknown>) => Saveable;
    readonly AccessToken: (new (values: Record<string, unknown>) => Saveable & { readonly expiration: number }) & {
      find(value: string): Promise<{ destroy(): Promise<void> } | undefined>;
    };
    readonly IdToken: new (claims: Record<string, unknown>, options: { ctx: unknown }) => { scope: string; issue(options: { use: 'idtoken' }): Promise<string> };
  }

  export const errors: { InvalidGrant: new (description?: string) => Error };
}
