/**
 * A product's permission manifest, published to Identity at boot (`PUT /v1/declarations/{service}`):
 * the resources and actions it checks, which of its roles hold them, and which groups hold its roles.
 * Resources are stored by Identity as `{service}/{resource}`.
 */
export interface PermissionManifest {
  readonly service: string;
  readonly version: string;
  readonly permissions: readonly { readonly resource: string; readonly action: string; readonly effect?: 'allow' | 'deny'; readonly roles: readonly string[] }[];
  readonly roles: readonly { readonly name: string; readonly grantedTo: readonly { readonly group: string }[] }[];
}

export interface ManifestResult {
  readonly changed: boolean;
  readonly policyRevision: number;
}
