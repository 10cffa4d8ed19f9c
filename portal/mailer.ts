import type { Config } from '../config/config';
import { createMailer, type Mailer } from '../mail/mailer';

const mailers = new WeakMap<Config, Mailer>();

/**
 * The mailer of the customer center's own mails (sign-in links, termination confirmations), sent from the
 * API process: one per configuration, so that the operator's link route and the pages share it.
 */
export function portalMailer(config: Config): Mailer {
  let mailer = mailers.get(config);
  if (!mailer) mailers.set(config, (mailer = createMailer(config.mail)));
  return mailer;
}
