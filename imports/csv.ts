/**
 * The CSV files people hand the engine (customer lists, bank statements) come from spreadsheets set to a
 * German or an English locale: `;` or `,` between the fields.
 */

/** Whichever of `;` and `,` the header row uses more often outside quotes. */
export function detectDelimiter(content: string): ';' | ',' {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (const char of content) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && char === ';') semicolons += 1;
    else if (!quoted && char === ',') commas += 1;
  }
  return semicolons >= commas && semicolons > 0 ? ';' : ',';
}
