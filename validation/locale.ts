import { z } from 'zod';

/**
 * A customer's locale, as the API, the customer import and the customer center take it. Fakturia writes
 * `de_DE`, BCP 47 `de-DE`; both are accepted in any case and stored in BCP 47's canonical form: the language
 * in lower case, the region in upper case, joined by a hyphen (`de`, `de-DE`, `en-GB`). That is the form the
 * API stored before, so stored values keep their meaning. Only languages the documents and mails are written
 * in are accepted: a customer in a language without texts would get German without knowing why.
 */

export const LANGUAGES = ['de', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

const LOCALE = /^([a-z]{2,3})(?:[-_]([a-z]{2}|\d{3}))?$/i;
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

function isLanguage(code: string): code is Language {
  return (LANGUAGES as readonly string[]).includes(code);
}

/** `de_DE` → `de-DE`, `EN` → `en`, `en_us` → `en-US`; null for a malformed locale, an unknown region or a language without texts. */
export function normaliseLocale(input: string): string | null {
  const match = LOCALE.exec(input.trim());
  if (!match) return null;
  const language = match[1]!.toLowerCase();
  if (!isLanguage(language)) return null;
  if (match[2] === undefined) return language;
  const region = match[2].toUpperCase();
  // ZZ is CLDR's "unknown region"
  return region === 'ZZ' || regionNames.of(region) === undefined ? null : `${language}-${region}`;
}

/**
 * The language documents, mails and the customer center's pages are written in for a stored locale (or a
 * browser's first language): its language, German for anything else.
 */
export function languageOf(locale: string | null | undefined): Language {
  const language = /^([a-z]{2,3})(?![a-z])/i.exec(locale?.trim() ?? '')?.[1]?.toLowerCase() ?? '';
  return isLanguage(language) ? language : 'de';
}

export const localeSchema = z
  .string()
  .transform((value, context) => {
    const locale = normaliseLocale(value);
    if (locale === null) {
      context.addIssue({ code: 'custom', message: `must be a locale in ${LANGUAGES.join(' or ')}, such as de, de-DE, de_DE or en-GB` });
      return z.NEVER;
    }
    return locale;
  })
  .meta({ description: `the customer's language for documents and mails (${LANGUAGES.join(', ')}), BCP 47 or Fakturia's de_DE; answered as BCP 47`, examples: ['de-DE'] });
