/** One canonical form for names compared by people (usernames, e-mails): NFKC, lower case. */
export function canonicalName(value: string): string {
  return value.normalize('NFKC').toLowerCase();
}
