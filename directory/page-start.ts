/** Where a page of a list starts: `offset` rows in, or (keyset) after the row with this sort value and id. */
export interface PageStart {
  readonly limit: number;
  readonly offset: number;
  readonly after?: { readonly sortValue: string; readonly id: string } | undefined;
}
