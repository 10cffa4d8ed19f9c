/** The messages of a failure and its causes: an update failure carries the activity's reason inside. */
export function failureMessages(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = (current as Error & { cause?: unknown }).cause) messages.push(current.message);
  return messages.join(' ← ');
}

/** Asserts that a command was refused, for the reason given, anywhere in its failure chain. */
export async function expectRefused(command: Promise<unknown>, reason: RegExp): Promise<void> {
  const outcome = await command.then(
    () => 'accepted',
    (error: unknown) => failureMessages(error),
  );
  expect(outcome).toMatch(reason);
}
