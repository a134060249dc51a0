// ISO 8601 UTC text of a time, exactly as Date.prototype.toISOString writes
// it, by arithmetic. Why not toISOString: the first call in a process costs
// about 1 ms (V8 sets up its date cache then, time zone included), and it
// lies on the way to `running` and to every job record (docs/resources.md).
// A leaf: it imports nothing of boxinit's own.

const MS_PER_DAY = 86_400_000;
// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const DAYS_BEFORE_EPOCH = 719_468;
const DAYS_PER_400_YEARS = 146_097;
// 9999-12-31T23:59:59.999Z: later years are written with a sign and six digits.
const LAST_FOUR_DIGIT_MS = 253_402_300_799_999;

const two = (value: number): string => (value < 10 ? `0${value}` : `${value}`);
const three = (value: number): string => (value < 10 ? `00${value}` : value < 100 ? `0${value}` : `${value}`);

/**
 * `YYYY-MM-DDTHH:mm:ss.sssZ` of ms since the epoch (default: now). Times
 * before 1970 or after 9999, fractions and NaN go to toISOString itself
 * (the same text, or its RangeError).
 */
export const isoTime = (ms: number = Date.now()): string => {
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_FOUR_DIGIT_MS) return new Date(ms).toISOString();
  const days = Math.floor(ms / MS_PER_DAY);
  const msOfDay = ms - days * MS_PER_DAY;
  // The civil date of a day count, years starting on 1 March (so that the
  // leap day is the last of a year): eras of 400 years, then the year of the
  // era, the day of that year, and its month.
  const shifted = days + DAYS_BEFORE_EPOCH;
  const era = Math.floor(shifted / DAYS_PER_400_YEARS);
  const dayOfEra = shifted - era * DAYS_PER_400_YEARS;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const seconds = Math.floor(msOfDay / 1000);
  return `${year}-${two(month)}-${two(day)}T${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}.${three(msOfDay % 1000)}Z`;
};
