import type { DecimalString, IsoDate } from './types';

/*
 * VAT rates of the 27 member states, dated, for supplies taxed in the consumer's country through the
 * One-Stop-Shop (billing/tax.ts). Source: European Commission, DG TAXUD, "VAT rates applied in the Member
 * States of the European Union" (situation at 1 January 2025) and the Taxes in Europe Database (TEDB), with
 * the changes announced for 2025 and 2026 by the member states themselves; checked as of 2026.
 *
 * `standard` is the standard rate (Art. 96 MwStSystRL). `reduced` is one reduced rate per country (Art. 98):
 * the higher one where a country has two or more, the rate its tax group of kind REDUCED maps to; a country
 * without a reduced rate (Denmark) has its standard rate there. Super-reduced and parking rates are not
 * modelled. Entries are in force from `validFrom` (null: before any date a One-Stop-Shop supply can have,
 * the scheme started on 2021-07-01) until the next entry. A rate change is a new entry with its first day.
 *
 * Greece is listed under its ISO 3166 code GR; its VAT ids use the prefix EL.
 */

export interface EuVatRate {
  validFrom: IsoDate | null;
  standard: DecimalString;
  reduced: DecimalString;
}

export const EU_VAT_RATES: Readonly<Record<string, readonly EuVatRate[]>> = {
  AT: [{ validFrom: null, standard: '20', reduced: '13' }],
  BE: [{ validFrom: null, standard: '21', reduced: '12' }],
  BG: [{ validFrom: null, standard: '20', reduced: '9' }],
  CY: [{ validFrom: null, standard: '19', reduced: '9' }],
  // the reduced rates of 10 and 15 % merged into 12 % (Act No. 349/2023 Coll.)
  CZ: [
    { validFrom: null, standard: '21', reduced: '15' },
    { validFrom: '2024-01-01', standard: '21', reduced: '12' },
  ],
  // the rates of the 2020 cut (16 / 5 %) lie before the One-Stop-Shop; German supplies use the DE tax groups
  DE: [{ validFrom: null, standard: '19', reduced: '7' }],
  DK: [{ validFrom: null, standard: '25', reduced: '25' }],
  // standard 20 → 22 % (2024-01-01) → 24 % (2025-07-01); accommodation 9 → 13 % (2025-01-01)
  EE: [
    { validFrom: null, standard: '20', reduced: '9' },
    { validFrom: '2024-01-01', standard: '22', reduced: '9' },
    { validFrom: '2025-01-01', standard: '22', reduced: '13' },
    { validFrom: '2025-07-01', standard: '24', reduced: '13' },
  ],
  ES: [{ validFrom: null, standard: '21', reduced: '10' }],
  // standard 24 → 25.5 % (2024-09-01); the 10 % rate went up to 14 % on 2025-01-01, which stays the higher one
  FI: [
    { validFrom: null, standard: '24', reduced: '14' },
    { validFrom: '2024-09-01', standard: '25.5', reduced: '14' },
  ],
  FR: [{ validFrom: null, standard: '20', reduced: '10' }],
  GR: [{ validFrom: null, standard: '24', reduced: '13' }],
  HR: [{ validFrom: null, standard: '25', reduced: '13' }],
  HU: [{ validFrom: null, standard: '27', reduced: '18' }],
  IE: [{ validFrom: null, standard: '23', reduced: '13.5' }],
  IT: [{ validFrom: null, standard: '22', reduced: '10' }],
  LT: [{ validFrom: null, standard: '21', reduced: '9' }],
  // every rate one point lower for 2023 (loi du 26 octobre 2022)
  LU: [
    { validFrom: null, standard: '17', reduced: '8' },
    { validFrom: '2023-01-01', standard: '16', reduced: '7' },
    { validFrom: '2024-01-01', standard: '17', reduced: '8' },
  ],
  LV: [{ validFrom: null, standard: '21', reduced: '12' }],
  MT: [{ validFrom: null, standard: '18', reduced: '7' }],
  NL: [{ validFrom: null, standard: '21', reduced: '9' }],
  PL: [{ validFrom: null, standard: '23', reduced: '8' }],
  PT: [{ validFrom: null, standard: '23', reduced: '13' }],
  // standard 19 → 21 %, the reduced rates of 5 and 9 % merged into 11 % (Legea nr. 141/2025)
  RO: [
    { validFrom: null, standard: '19', reduced: '9' },
    { validFrom: '2025-08-01', standard: '21', reduced: '11' },
  ],
  SE: [{ validFrom: null, standard: '25', reduced: '12' }],
  SI: [{ validFrom: null, standard: '22', reduced: '9.5' }],
  // standard 20 → 23 %, reduced 10 → 19 % (and 5 %) (Zákon č. 278/2024 Z. z.)
  SK: [
    { validFrom: null, standard: '20', reduced: '10' },
    { validFrom: '2025-01-01', standard: '23', reduced: '19' },
  ],
};

/** The 27 member states by ISO 3166-1 alpha-2 code. */
export const EU_MEMBER_STATES: ReadonlySet<string> = new Set(Object.keys(EU_VAT_RATES));

export function isEuMemberState(country: string): boolean {
  return EU_MEMBER_STATES.has(country);
}

/** The country's rates in force on `date` (the latest valid-from not after it), or null for a country outside the EU. */
export function euVatRateOn(country: string, date: IsoDate): EuVatRate | null {
  const rates = EU_VAT_RATES[country];
  if (!rates) return null;
  let found: EuVatRate | null = null;
  for (const rate of rates) {
    if (rate.validFrom !== null && rate.validFrom > date) continue;
    if (found === null || (found.validFrom ?? '') < (rate.validFrom ?? '')) found = rate;
  }
  return found;
}
