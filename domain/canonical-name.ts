/** One canonical form for names compared by people (usernames, e-mails): NFKC, lower case (SECURITY-CHECKLIST H7). */
export function canonicalName(value: string): string {
  return value.normalize('NFKC').toLowerCase();
}
