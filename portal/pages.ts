import type {
  MandateForm,
  MandateSignature,
  PortalCustomer,
  PortalOverview,
  TerminationForm,
  TerminationReceipt,
} from '../operations/portal';
import { lastDayOf } from '../operations/portal';
import { html, type Html } from './html';
import { fill, formatDate, formatMoney, problemText, TEXTS, type Language, type Texts } from './texts';

/**
 * The customer center's pages, rendered on the server: plain forms and links, no script, so every path works
 * without JavaScript. Every page carries the cancellation button (§ 312k BGB) in its header and footer.
 */

export interface PageContext {
  /** `/portal/<project>` */
  base: string;
  language: Language;
  csrfToken: string;
  /** The signed-in customer, or null on the public pages. */
  customer: PortalCustomer | null;
}

export interface FieldError {
  path: string;
  message: string;
}

function layout(context: PageContext, title: string, content: Html): string {
  const t = TEXTS[context.language];
  const other: Language = context.language === 'de' ? 'en' : 'de';
  const page = html`<!doctype html>
<html lang="${t.htmlLang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} – ${t.title}</title>
<link rel="stylesheet" href="${context.base}/assets/portal.css">
</head>
<body>
<a class="skip" href="#main">${t.skip}</a>
<header>
<div class="bar">
<span class="brand">${t.title}</span>
${context.customer
  ? html`<nav aria-label="${t.title}"><ul>
<li><a href="${context.base}/overview">${t.nav.overview}</a></li>
<li><a href="${context.base}/invoices">${t.nav.invoices}</a></li>
<li><a href="${context.base}/mandate">${t.nav.mandate}</a></li>
</ul></nav>
<form method="post" action="${context.base}/sign-out">${csrfField(context)}<button class="link" type="submit">${t.nav.signOut}</button></form>`
  : ''}
<a class="cancel-button" href="${context.base}/kuendigen">${t.cancelButton}</a>
</div>
</header>
<main id="main">
${content}
</main>
<footer>
<a class="cancel-button" href="${context.base}/kuendigen">${t.cancelButton}</a>
${context.customer ? '' : html`<a href="?lang=${other}" lang="${other}">${t.language}</a>`}
</footer>
</body>
</html>
`;
  return page.markup;
}

function csrfField(context: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${context.csrfToken}">`;
}

function problems(t: Texts, errors: FieldError[], labels: Record<string, string> = {}): Html | '' {
  if (errors.length === 0) return '';
  const language: Language = t.htmlLang === 'en' ? 'en' : 'de';
  return html`<div class="problem" role="alert"><strong>${t.errors.invalid}</strong><ul>
${errors.map((error) => html`<li>${labels[error.path] ? `${labels[error.path]}: ` : error.path && error.path !== '(request)' ? `${error.path}: ` : ''}${problemText(withoutPath(error), language)}</li>`)}
</ul></div>`;
}

/** A refusal from a workflow carries its field in the message too (`from: overlaps …`); the label says it already. */
function withoutPath(error: FieldError): string {
  return error.path && error.message.startsWith(`${error.path}: `) ? error.message.slice(error.path.length + 2) : error.message;
}

export function signInPage(context: PageContext, state: { email?: string; sent?: boolean; tooMany?: boolean; linkRefused?: boolean } = {}): string {
  const t = TEXTS[context.language];
  return layout(
    context,
    t.signIn.heading,
    html`<h1>${t.signIn.heading}</h1>
${state.sent ? html`<p class="notice" role="status">${t.signIn.sent}</p>` : ''}
${state.tooMany ? html`<p class="problem" role="alert">${t.signIn.tooMany}</p>` : ''}
${state.linkRefused ? html`<p class="problem" role="alert">${t.signIn.linkRefused}</p>` : ''}
<p>${t.signIn.intro}</p>
<form class="stacked" method="post" action="${context.base}/sign-in">
${csrfField(context)}
<input type="hidden" name="lang" value="${context.language}">
<label for="email">${t.signIn.email}</label>
<input id="email" name="email" type="email" autocomplete="email" required value="${state.email ?? ''}">
<button type="submit">${t.signIn.submit}</button>
</form>`,
  );
}

export function linkPage(context: PageContext, token: string): string {
  const t = TEXTS[context.language];
  return layout(
    context,
    t.signIn.linkHeading,
    html`<h1>${t.signIn.linkHeading}</h1>
<p>${t.signIn.linkIntro}</p>
<form method="post" action="${context.base}/link">
${csrfField(context)}
<input type="hidden" name="token" value="${token}">
<button type="submit">${t.signIn.linkSubmit}</button>
</form>`,
  );
}

function money(amount: string, currency: string, language: Language): string {
  return formatMoney(amount, currency, language);
}

export function overviewPage(context: PageContext, overview: PortalOverview): string {
  const t = TEXTS[context.language];
  const { language } = context;
  const customer = context.customer!;
  return layout(
    context,
    t.overview.heading,
    html`<h1>${t.overview.welcome}, ${customer.name}</h1>
<p>${t.overview.customerNumber}: <strong>${customer.customerNumber}</strong></p>
<h2>${t.overview.contracts}</h2>
${overview.contracts.length === 0
  ? html`<p>${t.overview.noContracts}</p>`
  : html`<table>
<thead><tr><th scope="col">${t.overview.contract}</th><th scope="col">${t.overview.status}</th><th scope="col">${t.overview.nextBilling}</th><th scope="col">${t.overview.endDate}</th><th scope="col">${t.overview.items}</th></tr></thead>
<tbody>
${overview.contracts.map(
  (contract) => html`<tr>
<td><a href="${context.base}/contracts/${encodeURIComponent(contract.contractNumber)}">${contract.contractNumber}</a></td>
<td>${t.status[contract.status] ?? contract.status}</td>
<td>${formatDate(contract.nextBillingDate, language)}</td>
<td>${contract.endDate ? formatDate(lastDayOf(contract.endDate), language) : '–'}</td>
<td>${contract.items.map((item) => html`${item.quantity.replace(/\.?0+$/, '')} × ${item.itemName}<br>`)}</td>
</tr>`,
)}
</tbody></table>`}
<h2>${t.overview.accounts}</h2>
<table>
<thead><tr><th scope="col">${t.overview.account}</th><th scope="col" class="amount">${t.overview.balance}</th></tr></thead>
<tbody>
${overview.accounts.map((account) => html`<tr><td>${account.accountNumber} (${account.name})</td><td class="amount">${money(account.balance, account.currency, language)}</td></tr>`)}
</tbody></table>
<p><a href="${context.base}/invoices">${t.nav.invoices}</a></p>`,
  );
}

export function contractPage(
  context: PageContext,
  view: {
    contract: { contractNumber: string; status: string; startDate: string; nextBillingDate: string | null; endDate: string | null; billingInterval: { count: number; unit: string } };
    items: { itemNumber: string; itemName: string; quantity: string }[];
    deliveries: { itemNumber: string; description: string; quantity: string; periodStart: string; periodEnd: string }[];
    delivered: { itemNumber: string; description: string; quantity: string; periodStart: string; periodEnd: string }[];
  },
  form: { submissionKey: string; from?: string; until?: string; errors?: FieldError[]; paused?: boolean },
): string {
  const t = TEXTS[context.language];
  const { language } = context;
  const { contract } = view;
  const period = (start: string, end: string) => `${formatDate(start, language)} – ${formatDate(lastDayOf(end), language)}`;
  const activityRows = (rows: typeof view.deliveries) =>
    html`<table><thead><tr><th scope="col">${t.contract.period}</th><th scope="col">${t.contract.item}</th><th scope="col" class="amount">${t.contract.quantity}</th></tr></thead><tbody>
${rows.map((row) => html`<tr><td>${period(row.periodStart, row.periodEnd)}</td><td>${row.description}</td><td class="amount">${row.quantity.replace(/\.?0+$/, '')}</td></tr>`)}
</tbody></table>`;
  return layout(
    context,
    `${t.overview.contract} ${contract.contractNumber}`,
    html`<h1>${t.overview.contract} ${contract.contractNumber}</h1>
<dl>
<dt>${t.overview.status}</dt><dd>${t.status[contract.status] ?? contract.status}</dd>
<dt>${t.contract.startDate}</dt><dd>${formatDate(contract.startDate, language)}</dd>
<dt>${t.contract.interval}</dt><dd>${contract.billingInterval.count} ${t.contract.units[contract.billingInterval.unit]?.[contract.billingInterval.count === 1 ? 0 : 1] ?? contract.billingInterval.unit}</dd>
<dt>${t.overview.nextBilling}</dt><dd>${formatDate(contract.nextBillingDate, language)}</dd>
<dt>${t.overview.endDate}</dt><dd>${contract.endDate ? formatDate(lastDayOf(contract.endDate), language) : '–'}</dd>
<dt>${t.overview.items}</dt><dd>${view.items.map((item) => html`${item.quantity.replace(/\.?0+$/, '')} × ${item.itemName} (${item.itemNumber})<br>`)}</dd>
</dl>
<h2>${t.contract.deliveries}</h2>
${view.deliveries.length === 0 ? html`<p>${t.contract.noDeliveries}</p>` : activityRows(view.deliveries)}
${view.delivered.length === 0 ? '' : html`<h2>${t.contract.delivered}</h2>${activityRows(view.delivered)}`}
<h2 id="pause">${t.contract.pauseHeading}</h2>
${form.paused ? html`<p class="notice" role="status">${t.contract.paused}</p>` : ''}
${problems(t, form.errors ?? [], { from: t.contract.pauseFrom, until: t.contract.pauseUntil })}
<p>${t.contract.pauseIntro}</p>
<form class="stacked" method="post" action="${context.base}/contracts/${encodeURIComponent(contract.contractNumber)}/pause">
${csrfField(context)}
<input type="hidden" name="submission" value="${form.submissionKey}">
<label for="from">${t.contract.pauseFrom}</label>
<input id="from" name="from" type="date" required value="${form.from ?? ''}">
<label for="until">${t.contract.pauseUntil}</label>
<input id="until" name="until" type="date" required value="${form.until ?? ''}">
<button type="submit">${t.contract.pauseSubmit}</button>
</form>`,
  );
}

export function invoicesPage(context: PageContext, overview: PortalOverview): string {
  const t = TEXTS[context.language];
  const { language } = context;
  const document = (path: string, format: 'pdf' | 'xrechnung', label: string, number: string) =>
    html`<a href="${context.base}/${path}/${encodeURIComponent(number)}/document?format=${format}" aria-label="${label} ${number}">${label}</a>`;
  return layout(
    context,
    t.invoices.heading,
    html`<h1>${t.invoices.heading}</h1>
<p>${t.invoices.balanceIntro}:</p>
<ul>${overview.accounts.map((account) => html`<li>${account.accountNumber}: <strong>${money(account.balance, account.currency, language)}</strong></li>`)}</ul>
${overview.invoices.length === 0
  ? html`<p>${t.invoices.none}</p>`
  : html`<table>
<thead><tr><th scope="col">${t.invoices.number}</th><th scope="col">${t.invoices.date}</th><th scope="col">${t.invoices.due}</th><th scope="col" class="amount">${t.invoices.gross}</th><th scope="col" class="amount">${t.invoices.open}</th><th scope="col">${t.invoices.status}</th><th scope="col">${t.invoices.documents}</th></tr></thead>
<tbody>
${overview.invoices.map(
  (invoice) => html`<tr>
<td>${invoice.invoiceNumber}</td>
<td>${formatDate(invoice.invoiceDate, language)}</td>
<td>${formatDate(invoice.dueDate, language)}</td>
<td class="amount">${money(invoice.grossTotal, invoice.currency, language)}</td>
<td class="amount">${money(invoice.openAmount, invoice.currency, language)}</td>
<td>${t.invoices.statusNames[invoice.status] ?? invoice.status}</td>
<td>${document('invoices', 'pdf', t.invoices.pdf, invoice.invoiceNumber)} · ${document('invoices', 'xrechnung', t.invoices.xrechnung, invoice.invoiceNumber)}</td>
</tr>`,
)}
</tbody></table>`}
${overview.corrections.length === 0
  ? ''
  : html`<h2>${t.invoices.corrections}</h2>
<table>
<thead><tr><th scope="col">${t.invoices.correction}</th><th scope="col">${t.invoices.ofInvoice}</th><th scope="col">${t.invoices.date}</th><th scope="col" class="amount">${t.invoices.gross}</th><th scope="col">${t.invoices.documents}</th></tr></thead>
<tbody>
${overview.corrections.map(
  (correction) => html`<tr>
<td>${correction.correctionNumber}</td><td>${correction.invoiceNumber}</td><td>${formatDate(correction.date, language)}</td>
<td class="amount">${money(correction.grossTotal, correction.currency, language)}</td>
<td>${document('corrections', 'pdf', t.invoices.pdf, correction.correctionNumber)} · ${document('corrections', 'xrechnung', t.invoices.xrechnung, correction.correctionNumber)}</td>
</tr>`,
)}
</tbody></table>`}`,
  );
}

export function mandatePage(
  context: PageContext,
  view: {
    form: MandateForm | null;
    text: string | null;
    current: { reference: string; signedOn: string; iban: string } | null;
    signed: MandateSignature | null;
    signedAt: { date: string; time: string } | null;
    submissionKey: string;
    iban?: string;
    holder?: string;
    errors?: FieldError[];
  },
): string {
  const t = TEXTS[context.language];
  const { language } = context;
  return layout(
    context,
    t.mandate.heading,
    html`<h1>${t.mandate.heading}</h1>
${view.signed && view.signedAt
  ? html`<p class="notice" role="status">${t.mandate.signed} ${fill(t.mandate.signedAt, { date: formatDate(view.signedAt.date, language), time: view.signedAt.time, ip: view.signed.ipAddress })}</p>`
  : ''}
${view.current
  ? html`<h2>${t.mandate.current}</h2><dl>
<dt>${t.mandate.reference}</dt><dd>${view.current.reference}</dd>
<dt>${t.mandate.iban}</dt><dd>${maskIban(view.current.iban)}</dd>
<dt>${t.mandate.signedOn}</dt><dd>${formatDate(view.current.signedOn, language)}</dd>
</dl>`
  : ''}
${view.form === null || view.text === null
  ? html`<p>${t.mandate.unavailable}</p>`
  : html`<h2>${t.mandate.give}</h2>
<p>${t.mandate.intro}</p>
${problems(t, view.errors ?? [], { iban: t.mandate.iban, accountHolder: t.mandate.holder })}
<form class="stacked" method="post" action="${context.base}/mandate">
${csrfField(context)}
<input type="hidden" name="submission" value="${view.submissionKey}">
<label for="iban">${t.mandate.iban}</label>
<input id="iban" name="iban" type="text" autocomplete="off" required value="${view.iban ?? ''}">
<label for="holder">${t.mandate.holder}</label>
<input id="holder" name="accountHolder" type="text" autocomplete="name" required value="${view.holder ?? ''}">
<h3 id="mandate-text-heading">${t.mandate.text}</h3>
<p class="mandate-text" aria-labelledby="mandate-text-heading">${view.text}</p>
<button type="submit">${t.mandate.submit}</button>
</form>`}`,
  );
}

/** The IBAN as a customer recognises it without showing all of it: country, check digits and the last four. */
function maskIban(iban: string): string {
  return `${iban.slice(0, 4)} •••• ${iban.slice(-4)}`;
}

export function cancelPage(
  context: PageContext,
  form: { submissionKey: string; values: Partial<Record<keyof TerminationForm, string>>; errors?: FieldError[] },
): string {
  const t = TEXTS[context.language];
  const value = (name: keyof TerminationForm) => form.values[name] ?? '';
  const extraordinary = form.values.kind === 'EXTRAORDINARY';
  return layout(
    context,
    t.cancel.heading,
    html`<h1>${t.cancel.heading}</h1>
<p>${t.cancel.intro}</p>
${problems(t, form.errors ?? [], {
  customerName: t.cancel.name,
  email: t.cancel.email,
  customerNumber: t.cancel.customerNumber,
  contractNumber: t.cancel.contractNumber,
  requestedEndDate: t.cancel.endDate,
  reason: t.cancel.reason,
})}
<form class="stacked" method="post" action="${context.base}/kuendigen">
${csrfField(context)}
<input type="hidden" name="submission" value="${form.submissionKey}">
<input type="hidden" name="lang" value="${context.language}">
<label for="customerName">${t.cancel.name}</label>
<input id="customerName" name="customerName" type="text" autocomplete="name" required value="${value('customerName')}">
<p class="hint" id="identity-hint">${t.cancel.identityHint}</p>
<label for="email">${t.cancel.email}</label>
<input id="email" name="email" type="email" autocomplete="email" aria-describedby="identity-hint" value="${value('email')}">
<label for="customerNumber">${t.cancel.customerNumber}</label>
<input id="customerNumber" name="customerNumber" type="text" aria-describedby="identity-hint" value="${value('customerNumber')}">
<label for="contractNumber">${t.cancel.contractNumber}</label>
<input id="contractNumber" name="contractNumber" type="text" required value="${value('contractNumber')}">
<fieldset>
<legend>${t.cancel.kind}</legend>
<input id="kind-ordinary" name="kind" type="radio" value="ORDINARY" ${extraordinary ? '' : html`checked`}><label for="kind-ordinary">${t.cancel.ordinary}</label>
<input id="kind-extraordinary" name="kind" type="radio" value="EXTRAORDINARY" ${extraordinary ? html`checked` : ''}><label for="kind-extraordinary">${t.cancel.extraordinary}</label>
</fieldset>
<label for="requestedEndDate">${t.cancel.endDate}</label>
<input id="requestedEndDate" name="requestedEndDate" type="date" value="${value('requestedEndDate')}">
<label for="reason">${t.cancel.reason}</label>
<textarea id="reason" name="reason" rows="3">${value('reason')}</textarea>
<button type="submit">${t.cancel.submit}</button>
</form>`,
  );
}

export function cancelReceiptPage(context: PageContext, receipt: TerminationReceipt): string {
  const t = TEXTS[context.language];
  const { language } = context;
  const recipient = receipt.mail === 'SENT' || receipt.mail === 'ALREADY_SENT' ? receipt.email : null;
  return layout(
    context,
    t.cancel.receivedHeading,
    html`<h1>${t.cancel.receivedHeading}</h1>
<p class="notice" role="status" id="received-at">${fill(t.cancel.receivedAt, { date: formatDate(receipt.receivedOn, language), time: receipt.receivedTime })}</p>
<p id="end-date">${receipt.outcome === 'TERMINATED' && receipt.endDate
  ? fill(t.cancel.endsOn, { contract: receipt.contractNumber, date: formatDate(lastDayOf(receipt.endDate), language) })
  : fill(t.cancel.recorded, { contract: receipt.contractNumber })}</p>
${recipient ? html`<p>${fill(t.cancel.mailed, { email: recipient })}</p>` : ''}`,
  );
}

export function errorPage(context: PageContext, message: string, errors: FieldError[] = []): string {
  const t = TEXTS[context.language];
  return layout(
    context,
    t.errors.heading,
    html`<h1>${t.errors.heading}</h1>
<p class="problem" role="alert">${message}</p>
${errors.length > 0 ? html`<ul>${errors.map((error) => html`<li>${error.path}: ${error.message}</li>`)}</ul>` : ''}
<p><a href="${context.base}${context.customer ? '/overview' : '/sign-in'}">${context.customer ? t.errors.back : t.signIn.heading}</a></p>`,
  );
}
