/**
 * Why an actor ended. `stopped` (the parent asked) and `exit-requested` (the actor asked, e.g. after
 * logout) are normal exits and are never restarted; every other cause is a failure.
 */
export type ExitCause = 'stopped' | 'exit-requested' | 'crashed' | 'out-of-memory' | 'hung' | 'start-timeout' | 'killed';

export interface ActorExit {
  cause: ExitCause;
  /** One line for status, logs and REST: the crash message, the stop reason, ... */
  reason: string;
  /** Whether the actor had become ready: failures before ready are counted apart by the restart policy. */
  wasReady: boolean;
  code: number | null;
  signal: string | null;
}

export function isNormalExit(exit: ActorExit): boolean {
  return exit.cause === 'stopped' || exit.cause === 'exit-requested';
}
