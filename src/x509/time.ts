/**
 * Calendar arithmetic on epoch milliseconds, without the ambient `Date` (which the core may not
 * touch): the civil date of a day count in the proleptic Gregorian calendar, by 400-year eras.
 * @module
 */

/** A UTC instant split into calendar fields (month 1-12, day 1-31). */
export interface UtcFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/**
 * The UTC calendar fields of `ms` milliseconds since 1970-01-01T00:00:00Z (milliseconds dropped).
 * @example
 * utcFields(0); // { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 }
 */
export function utcFields(ms: number): UtcFields {
  const totalSeconds = Math.floor(ms / 1000);
  const days = Math.floor(totalSeconds / 86_400);
  const secondsOfDay = totalSeconds - days * 86_400;
  // Shift the epoch to 0000-03-01 so that leap days fall at the end of each year.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return {
    year,
    month,
    day,
    hour: Math.floor(secondsOfDay / 3600),
    minute: Math.floor((secondsOfDay % 3600) / 60),
    second: secondsOfDay % 60,
  };
}

/**
 * ISO 8601 UTC text (`2025-01-01T00:00:00Z`), for messages.
 * @example
 * isoTime(0); // '1970-01-01T00:00:00Z'
 */
export function isoTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const t = utcFields(ms);
  return `${_pad(t.year, 4)}-${_pad(t.month)}-${_pad(t.day)}T${_pad(t.hour)}:${_pad(t.minute)}:${_pad(t.second)}Z`;
}

function _pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}
