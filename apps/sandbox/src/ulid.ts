/**
 * A ULID: 26 characters of Crockford base32 (no I, L, O or U), case-insensitive. The
 * first character is at most 7 because the 48-bit timestamp must fit in 10 characters.
 */
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

export function isUlid(value: string): boolean {
  return value.length === 26 && ULID_PATTERN.test(value);
}
