/** The customer center's wording, German (the default) and English, chosen by the customer's locale. */

export type Language = 'de' | 'en';

const de = {
  htmlLang: 'de',
  title: 'Kundencenter',
  skip: 'Zum Inhalt springen',
  cancelButton: 'Verträge hier kündigen',
  nav: { overview: 'Übersicht', invoices: 'Rechnungen', mandate: 'SEPA-Lastschrift', signOut: 'Abmelden' },
  signIn: {
    heading: 'Anmelden',
    intro: 'Geben Sie die E-Mail-Adresse ein, unter der wir Ihnen Rechnungen schicken. Sie erhalten einen Anmeldelink, der 15 Minuten lang einmal gilt.',
    email: 'E-Mail-Adresse',
    submit: 'Anmeldelink senden',
    sent: 'Wenn wir die Adresse kennen, ist ein Anmeldelink unterwegs. Bitte sehen Sie in Ihr Postfach.',
    tooMany: 'Zu viele Anfragen. Bitte warten Sie einige Minuten und versuchen Sie es dann erneut.',
    linkHeading: 'Anmeldung bestätigen',
    linkIntro: 'Melden Sie sich mit diesem Link im Kundencenter an.',
    linkSubmit: 'Jetzt anmelden',
    linkRefused: 'Dieser Anmeldelink ist abgelaufen, wurde schon benutzt oder ist ungültig. Fordern Sie einen neuen an.',
    newLink: 'Neuen Anmeldelink anfordern',
  },
  overview: {
    heading: 'Übersicht',
    welcome: 'Willkommen',
    customerNumber: 'Kundennummer',
    contracts: 'Verträge',
    noContracts: 'Sie haben keine Verträge.',
    contract: 'Vertrag',
    status: 'Status',
    nextBilling: 'Nächste Abrechnung',
    endDate: 'Vertragsende',
    items: 'Artikel',
    details: 'Details und Lieferungen',
    accounts: 'Kundenkonten',
    balance: 'Kontostand',
    account: 'Konto',
  },
  status: { ACTIVE: 'aktiv', PAUSED: 'pausiert', TERMINATED: 'gekündigt', ENDED: 'beendet' } as Record<string, string>,
  contract: {
    deliveries: 'Aktuelle und kommende Lieferungen',
    noDeliveries: 'Keine Lieferungen geplant.',
    delivered: 'Letzte Lieferungen',
    period: 'Zeitraum',
    quantity: 'Menge',
    item: 'Artikel',
    pauseHeading: 'Lieferpause',
    pauseIntro: 'Pausieren Sie Ihre Lieferungen, zum Beispiel während eines Urlaubs. Bereits berechnete Lieferungen im Zeitraum werden mit der nächsten Rechnung gutgeschrieben.',
    pauseFrom: 'Pause ab (erster Tag ohne Lieferung)',
    pauseUntil: 'Pause bis (erster Tag mit Lieferung)',
    pauseSubmit: 'Lieferpause einrichten',
    paused: 'Die Lieferpause ist eingerichtet.',
    startDate: 'Vertragsbeginn',
    interval: 'Abrechnungsintervall',
    units: { DAY: ['Tag', 'Tage'], WEEK: ['Woche', 'Wochen'], MONTH: ['Monat', 'Monate'], YEAR: ['Jahr', 'Jahre'] } as Record<string, [string, string]>,
  },
  invoices: {
    heading: 'Rechnungen',
    none: 'Noch keine Rechnungen.',
    number: 'Rechnung',
    date: 'Datum',
    due: 'Fällig am',
    gross: 'Betrag',
    open: 'Offen',
    status: 'Status',
    documents: 'Dokumente',
    corrections: 'Stornorechnungen',
    correction: 'Storno',
    ofInvoice: 'zu Rechnung',
    pdf: 'PDF',
    xrechnung: 'XRechnung',
    balanceIntro: 'Kontostand (Guthaben positiv, offene Beträge negativ)',
    statusNames: { OPEN: 'offen', PARTIAL: 'teilweise bezahlt', PAID: 'bezahlt', CANCELLED: 'storniert' } as Record<string, string>,
  },
  mandate: {
    heading: 'SEPA-Lastschriftmandat',
    give: 'Mandat erteilen',
    intro: 'Erteilen Sie uns ein SEPA-Lastschriftmandat, dann ziehen wir künftige Rechnungen von Ihrem Konto ein.',
    iban: 'IBAN',
    holder: 'Kontoinhaber',
    text: 'Mandatstext',
    submit: 'Mandat erteilen',
    current: 'Aktuelles Mandat',
    reference: 'Mandatsreferenz',
    signedOn: 'Erteilt am',
    signed: 'Vielen Dank. Ihr Mandat ist erteilt.',
    signedAt: 'Erteilt am {date} um {time} Uhr von der IP-Adresse {ip}.',
    unavailable: 'Die Zahlung per Lastschrift wird derzeit nicht angeboten.',
  },
  cancel: {
    heading: 'Verträge hier kündigen',
    intro: 'Kündigen Sie hier Ihren Vertrag, ohne sich anzumelden. Wir brauchen nur die Angaben, die Sie und den Vertrag erkennen lassen.',
    name: 'Ihr Name',
    email: 'E-Mail-Adresse (für die Bestätigung)',
    customerNumber: 'Kundennummer',
    identityHint: 'Bitte geben Sie Ihre E-Mail-Adresse oder Ihre Kundennummer an.',
    contractNumber: 'Vertragsnummer',
    kind: 'Art der Kündigung',
    ordinary: 'ordentliche Kündigung',
    extraordinary: 'außerordentliche Kündigung',
    endDate: 'Kündigung zum (leer lassen: zum nächstmöglichen Zeitpunkt)',
    reason: 'Grund (nur bei außerordentlicher Kündigung)',
    submit: 'jetzt kündigen',
    receivedHeading: 'Ihre Kündigung ist eingegangen',
    receivedAt: 'Eingegangen am {date} um {time} Uhr.',
    endsOn: 'Der Vertrag {contract} endet mit Ablauf des {date}.',
    recorded: 'Wir prüfen Ihre Kündigung des Vertrags {contract} und bestätigen Ihnen das Vertragsende gesondert.',
    mailed: 'Eine Bestätigung haben wir an {email} geschickt.',
  },
  errors: {
    heading: 'Das hat nicht geklappt',
    notFound: 'Diese Seite gibt es nicht.',
    csrf: 'Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und senden Sie es noch einmal.',
    signInNeeded: 'Bitte melden Sie sich an.',
    invalid: 'Bitte prüfen Sie Ihre Eingaben.',
    unavailable: 'Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es später noch einmal.',
    internal: 'Ein interner Fehler ist aufgetreten.',
    back: 'Zurück zur Übersicht',
  },
  language: 'English',
};

export type Texts = typeof de;

const en: Texts = {
  htmlLang: 'en',
  title: 'Customer center',
  skip: 'Skip to content',
  cancelButton: 'Cancel contracts here',
  nav: { overview: 'Overview', invoices: 'Invoices', mandate: 'SEPA direct debit', signOut: 'Sign out' },
  signIn: {
    heading: 'Sign in',
    intro: 'Enter the e-mail address we send your invoices to. You will get a sign-in link that works once, within 15 minutes.',
    email: 'E-mail address',
    submit: 'Send sign-in link',
    sent: 'If we know the address, a sign-in link is on its way. Please check your mailbox.',
    tooMany: 'Too many requests. Please wait a few minutes and try again.',
    linkHeading: 'Confirm sign-in',
    linkIntro: 'Sign in to the customer center with this link.',
    linkSubmit: 'Sign in now',
    linkRefused: 'This sign-in link has expired, has been used already or is not valid. Ask for a new one.',
    newLink: 'Ask for a new sign-in link',
  },
  overview: {
    heading: 'Overview',
    welcome: 'Welcome',
    customerNumber: 'Customer number',
    contracts: 'Contracts',
    noContracts: 'You have no contracts.',
    contract: 'Contract',
    status: 'Status',
    nextBilling: 'Next billing date',
    endDate: 'End of contract',
    items: 'Items',
    details: 'Details and deliveries',
    accounts: 'Customer accounts',
    balance: 'Balance',
    account: 'Account',
  },
  status: { ACTIVE: 'active', PAUSED: 'paused', TERMINATED: 'terminated', ENDED: 'ended' },
  contract: {
    deliveries: 'Current and upcoming deliveries',
    noDeliveries: 'No deliveries planned.',
    delivered: 'Recent deliveries',
    period: 'Period',
    quantity: 'Quantity',
    item: 'Item',
    pauseHeading: 'Delivery pause',
    pauseIntro: 'Pause your deliveries, for example during a holiday. Deliveries in that time that were invoiced already are credited on the next invoice.',
    pauseFrom: 'Pause from (first day without delivery)',
    pauseUntil: 'Pause until (first day with delivery again)',
    pauseSubmit: 'Pause deliveries',
    paused: 'The delivery pause is set.',
    startDate: 'Start of contract',
    interval: 'Billing interval',
    units: { DAY: ['day', 'days'], WEEK: ['week', 'weeks'], MONTH: ['month', 'months'], YEAR: ['year', 'years'] },
  },
  invoices: {
    heading: 'Invoices',
    none: 'No invoices yet.',
    number: 'Invoice',
    date: 'Date',
    due: 'Due',
    gross: 'Amount',
    open: 'Open',
    status: 'Status',
    documents: 'Documents',
    corrections: 'Cancellation invoices',
    correction: 'Cancellation',
    ofInvoice: 'of invoice',
    pdf: 'PDF',
    xrechnung: 'XRechnung',
    balanceIntro: 'Balance (credit positive, amounts owed negative)',
    statusNames: { OPEN: 'open', PARTIAL: 'partly paid', PAID: 'paid', CANCELLED: 'cancelled' },
  },
  mandate: {
    heading: 'SEPA direct debit mandate',
    give: 'Give a mandate',
    intro: 'Give us a SEPA direct debit mandate and we collect future invoices from your account.',
    iban: 'IBAN',
    holder: 'Account holder',
    text: 'Mandate text',
    submit: 'Give mandate',
    current: 'Current mandate',
    reference: 'Mandate reference',
    signedOn: 'Given on',
    signed: 'Thank you. Your mandate is given.',
    signedAt: 'Given on {date} at {time} from the IP address {ip}.',
    unavailable: 'Payment by direct debit is not offered at the moment.',
  },
  cancel: {
    heading: 'Cancel contracts here',
    intro: 'Cancel your contract here without signing in. We only need what identifies you and the contract.',
    name: 'Your name',
    email: 'E-mail address (for the confirmation)',
    customerNumber: 'Customer number',
    identityHint: 'Please give your e-mail address or your customer number.',
    contractNumber: 'Contract number',
    kind: 'Kind of termination',
    ordinary: 'ordinary termination',
    extraordinary: 'extraordinary termination',
    endDate: 'Terminate as of (leave empty: the earliest possible date)',
    reason: 'Reason (extraordinary termination only)',
    submit: 'Cancel now',
    receivedHeading: 'Your termination has been received',
    receivedAt: 'Received on {date} at {time}.',
    endsOn: 'Contract {contract} ends at the end of {date}.',
    recorded: 'We will check your termination of contract {contract} and confirm the end date separately.',
    mailed: 'We sent a confirmation to {email}.',
  },
  errors: {
    heading: 'That did not work',
    notFound: 'This page does not exist.',
    csrf: 'The form has expired. Please reload the page and send it again.',
    signInNeeded: 'Please sign in.',
    invalid: 'Please check your entries.',
    unavailable: 'The service is not available right now. Please try again later.',
    internal: 'An internal error occurred.',
    back: 'Back to the overview',
  },
  language: 'Deutsch',
};

export const TEXTS: Record<Language, Texts> = { de, en };

/** `{name}` in a text replaced by the value given. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** A calendar date as the language writes it: 24.12.2026 or 2026-12-24. */
export function formatDate(date: string | null, language: Language): string {
  if (!date) return '–';
  return language === 'de' ? date.split('-').reverse().join('.') : date;
}

/** A decimal string with two places as the language writes money: 1.234,50 EUR or 1,234.50 EUR. */
export function formatMoney(amount: string, currency: string, language: Language): string {
  const negative = amount.trim().startsWith('-');
  const [whole = '0', fraction = ''] = amount.trim().replace(/^[-+]/, '').split('.');
  const cents = (fraction + '00').slice(0, 2);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, language === 'de' ? '.' : ',');
  return `${negative ? '−' : ''}${grouped}${language === 'de' ? ',' : '.'}${cents} ${currency.trim()}`;
}

/**
 * The refusals the customer center's forms can meet, in German: the rules are shared with the API, whose
 * messages are English. A message not listed stays as the rule wrote it.
 */
const GERMAN_PROBLEMS: [RegExp, string][] = [
  [/^is not a valid IBAN.*/, 'ist keine gültige IBAN (Länderkennung, Prüfziffern und Länge werden geprüft)'],
  [/^must be a (calendar )?date YYYY-MM-DD.*/, 'muss ein gültiges Datum sein'],
  [/^is required$/, 'fehlt'],
  [/^must be after from$/, 'muss nach dem Beginn der Pause liegen'],
  [/^overlaps the delivery pause (\S+) – (\S+)$/, 'überschneidet sich mit der Lieferpause vom $1 bis $2'],
  [/^must not be before (\S+):.*/, 'darf nicht vor dem $1 liegen'],
  [/^must not be after (\S+):.*/, 'darf nicht nach dem $1 liegen'],
  [/^Invalid email address$/, 'ist keine gültige E-Mail-Adresse'],
  [/^Too small: expected string to have >=(\d+) characters?$/, 'braucht mindestens $1 Zeichen'],
  [/^Too big: expected string to have <=(\d+) characters?$/, 'darf höchstens $1 Zeichen haben'],
  [/^e-mail address or customer number needed$/, 'E-Mail-Adresse oder Kundennummer angeben'],
];

export function problemText(message: string, language: Language): string {
  if (language !== 'de') return message;
  for (const [pattern, german] of GERMAN_PROBLEMS) if (pattern.test(message)) return message.replace(pattern, german);
  return message;
}
