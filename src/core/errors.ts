/** An error's text for a sentence: its message for an Error, else the value as a string. */
export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
