/** Where long operations tell what they do: the CLI's stderr, VS Code's output channel, the dashboard. */
export interface Reporter {
  /** A step a user would want to see ("starting galera2"). */
  step(message: string): void;
  /** Build output and other detail (shown in logs, not in progress UIs). */
  detail(message: string): void;
}
