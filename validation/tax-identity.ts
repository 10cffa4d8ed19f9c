import { isEuMemberState } from '../billing/eu-vat-rates';

/*
 * A customer's country, VAT id and tax region must agree, because together they decide the tax of every invoice
 * (billing/tax.ts): the API, the customer import and the customer center refuse a customer whose data do not.
 */

/** ISO 3166-1 alpha-2, the officially assigned codes. */
const ISO_COUNTRIES = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
    'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
    'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO ' +
    'JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR ' +
    'MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO ' +
    'RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV ' +
    'TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
  ).split(' '),
);

export function isIsoCountry(code: string): boolean {
  return ISO_COUNTRIES.has(code);
}

/** The prefix of a member state's VAT ids: its country code, except Greece (EL). */
export function vatIdPrefixOf(country: string): string {
  return country === 'GR' ? 'EL' : country;
}

/**
 * The number after the prefix, per member state, as the VIES service of the European Commission checks the
 * syntax ("VIES VAT number validation", the format table of each member state).
 */
const VAT_ID_FORMATS: Record<string, RegExp> = {
  AT: /^U\d{8}$/,
  BE: /^[01]\d{9}$/,
  BG: /^\d{9,10}$/,
  CY: /^\d{8}[A-Z]$/,
  CZ: /^\d{8,10}$/,
  DE: /^\d{9}$/,
  DK: /^\d{8}$/,
  EE: /^\d{9}$/,
  EL: /^\d{9}$/,
  ES: /^[A-Z0-9]\d{7}[A-Z0-9]$/,
  FI: /^\d{8}$/,
  FR: /^[A-HJ-NP-Z0-9]{2}\d{9}$/,
  HR: /^\d{11}$/,
  HU: /^\d{8}$/,
  IE: /^(\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W])$/,
  IT: /^\d{11}$/,
  LT: /^(\d{9}|\d{12})$/,
  LU: /^\d{8}$/,
  LV: /^\d{11}$/,
  MT: /^\d{8}$/,
  NL: /^\d{9}B\d{2}$/,
  PL: /^\d{10}$/,
  PT: /^\d{9}$/,
  RO: /^[1-9]\d{1,9}$/,
  SE: /^\d{10}01$/,
  SI: /^\d{8}$/,
  SK: /^\d{10}$/,
};

/** The member state a VAT id belongs to by its prefix (EL → GR), or null when the prefix is none of theirs. */
export function countryOfVatId(vatId: string): string | null {
  const prefix = vatId.slice(0, 2);
  if (!(prefix in VAT_ID_FORMATS)) return null;
  return prefix === 'EL' ? 'GR' : prefix;
}

export interface TaxIdentity {
  euTaxId: string | null;
  taxRegion: 'NATIONAL' | 'EU' | 'THIRD_COUNTRY';
  country: string | null;
}

/** The tax region a country belongs to, seen from a German seller. */
export function taxRegionOf(country: string): TaxIdentity['taxRegion'] {
  if (country === 'DE') return 'NATIONAL';
  return isEuMemberState(country) ? 'EU' : 'THIRD_COUNTRY';
}

/**
 * What is wrong with a customer's country, VAT id and tax region, each with the field to name; none: they
 * agree. A customer without a country is judged by its VAT id's country. The rules:
 * - the country is an ISO 3166-1 alpha-2 code;
 * - a VAT id (USt-IdNr.) is a member state's: its prefix is the customer's country's (Greece: EL) and the
 *   number has that state's format; a customer outside the EU has none (its foreign tax number goes into
 *   taxNumber), so a VAT id with a third country is refused;
 * - the tax region is the country's: DE is NATIONAL, the other 26 member states EU, every other country
 *   THIRD_COUNTRY.
 */
export function taxIdentityIssues(customer: TaxIdentity): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const { euTaxId, taxRegion } = customer;
  // a code not even of two capitals is refused by the field's own rule
  let country = customer.country !== null && /^[A-Z]{2}$/.test(customer.country) ? customer.country : null;
  if (country !== null && !isIsoCountry(country)) {
    issues.push({ path: ['billingAddress', 'country'], message: `${country} is no ISO 3166-1 alpha-2 country code` });
    country = null;
  }
  if (euTaxId !== null && /^[A-Z]{2}/.test(euTaxId)) {
    const vatCountry = countryOfVatId(euTaxId);
    if (country !== null && !isEuMemberState(country)) {
      issues.push({ path: ['euTaxId'], message: `a customer in ${country}, outside the EU, has no EU VAT id (put a foreign tax number into taxNumber)` });
    } else if (vatCountry === null || (country !== null && vatCountry !== country)) {
      const expected = country === null ? 'an EU member state' : vatIdPrefixOf(country);
      issues.push({ path: ['euTaxId'], message: `must start with the prefix of ${expected}, the customer's country` });
    } else if (!VAT_ID_FORMATS[euTaxId.slice(0, 2)]!.test(euTaxId.slice(2))) {
      issues.push({ path: ['euTaxId'], message: `is not a VAT id of the format of ${vatCountry}` });
    }
    country ??= vatCountry;
  }
  if (country !== null && taxRegion !== taxRegionOf(country)) {
    issues.push({ path: ['taxRegion'], message: `must be ${taxRegionOf(country)} for a customer in ${country}` });
  }
  return issues;
}
