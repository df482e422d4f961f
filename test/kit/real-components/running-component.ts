/** A real server started by the kit on loopback. */
export interface RunningComponent {
  /** Base URL without a trailing slash, always on 127.0.0.1 (cookies are per host: never mix with localhost). */
  url: string;
  port: number;
  /** Stops the process group and removes its temp folder; idempotent. */
  stop(): Promise<void>;
  /** Everything it logged so far (its output and its log files), for failure messages. */
  logs(): string;
}
