/**
 * Synthetic identifiers for demo and test calls: never a real person's data.
 *  - personnummer are generated with a valid check digit, birth numbers 980–989;
 *  - phone numbers come from the mobile series 070-174 06 05 … 070-174 06 99 that the Swedish
 *    regulator PTS reserves for fiction, so they reach nobody.
 */

/** mulberry32: a tiny deterministic PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = (seed | 0) ^ 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Luhn check digit over the 9 digits YYMMDDNNN, as used by Swedish personnummer. */
export function luhnCheckDigit(nineDigits: string): number {
  let sum = 0;
  for (let i = 0; i < nineDigits.length; i++) {
    let d = Number(nineDigits[i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * A synthetic personnummer, 12 digits YYYYMMDDNNNC with a valid check digit, deterministic from
 * `seed`: birth dates 1930-01-01 … 2005-12-28 and birth numbers 980–989 (the style of the
 * numbers in Skatteverket's examples). It is generated, never looked up: like any valid number it
 * may coincide with a real person's, but it carries no real person's data.
 */
export function syntheticPersonnummer(seed: number): string {
  const rnd = prng(seed * 7919 + 1);
  const year = 1930 + Math.floor(rnd() * 76);
  const month = 1 + Math.floor(rnd() * 12);
  const day = 1 + Math.floor(rnd() * 28);
  const serial = 980 + Math.floor(rnd() * 10);
  const nine = `${pad(year % 100, 2)}${pad(month, 2)}${pad(day, 2)}${serial}`;
  return `${year}${pad(month, 2)}${pad(day, 2)}${serial}${luhnCheckDigit(nine)}`;
}

/** How many distinct synthetic phone numbers exist: seeds n and n + SYNTHETIC_PHONE_COUNT collide. */
export const SYNTHETIC_PHONE_COUNT = 95;

/**
 * A Swedish mobile number such as '070-174 06 05', deterministic from `seed`, from the series
 * 070-174 06 05 … 070-174 06 99 that PTS reserves for fiction. Distinct for any 95 consecutive seeds.
 */
export function syntheticPhone(seed: number): string {
  const n = 5 + (((seed % SYNTHETIC_PHONE_COUNT) + SYNTHETIC_PHONE_COUNT) % SYNTHETIC_PHONE_COUNT);
  return `070-174 06 ${pad(n, 2)}`;
}

/** the birth years of canaries' personnummer: nobody born in them is alive yet (docs/alerts.md, "Canaries") */
export const UNBORN_YEARS = { from: 2090, to: 2099 } as const;

/**
 * A personnummer nobody can hold yet, for canary recordings (src/alerts/canaries.ts): 12 digits
 * with a birth year 2090–2099, birth numbers 980–989 and a valid check digit. Always said and
 * written in the 12-digit form: its 10-digit form would be read as born a century earlier.
 */
export function unbornPersonnummer(rnd: () => number): string {
  const year = UNBORN_YEARS.from + Math.floor(rnd() * (UNBORN_YEARS.to - UNBORN_YEARS.from + 1));
  const month = 1 + Math.floor(rnd() * 12);
  const day = 1 + Math.floor(rnd() * 28);
  const serial = 980 + Math.floor(rnd() * 10);
  const nine = `${pad(year % 100, 2)}${pad(month, 2)}${pad(day, 2)}${serial}`;
  return `${year}${pad(month, 2)}${pad(day, 2)}${serial}${luhnCheckDigit(nine)}`;
}
