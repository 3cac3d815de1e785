/** E.164: `+`, then 7 to 15 digits, the first not 0 (`+15551234567`). What users' phone numbers must be. */
export const e164Pattern = /^\+[1-9]\d{6,14}$/;

/**
 * A phone number as reads show it: the country prefix's first digits and the last four, the rest hidden
 * (`+15551234567` → `+15*****4567`), enough for a person to recognise their number, too little to call it.
 */
export function maskPhoneNumber(phoneNumber: string): string {
  const digits = phoneNumber.slice(1);
  const shown = digits.length >= 10 ? 2 : 1;
  return `+${digits.slice(0, shown)}${'*'.repeat(digits.length - shown - 4)}${digits.slice(-4)}`;
}
