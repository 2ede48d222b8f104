/** An error's text for a sentence: its message for an Error, else the value as a string. */
export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Docker is absent, not running, or refuses us: the message says what to do. */
export class DockerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DockerUnavailableError';
  }
}
