/**
 * SIGTERM/SIGINT handling for long-running commands: the first signal starts a graceful stop,
 * a second one exits at once (work stays safe: leases expire and runs resume from checkpoints).
 */
import type { Logger } from '../logger.js';

export interface ShutdownOptions {
  logger: Logger;
  /** The graceful stop; its promise settles when the process may exit. */
  stop: () => Promise<void>;
  /** Exit code after a forced (second-signal) exit. */
  forcedExitCode?: number;
}

/** Resolves once a graceful stop has finished (after the first SIGTERM or SIGINT). */
export function untilShutdown(options: ShutdownOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        options.logger.warn({ signal }, 'second signal: exiting now');
        process.exit(options.forcedExitCode ?? 130);
      }
      stopping = true;
      options.logger.info({ signal }, 'shutting down gracefully (send the signal again to exit at once)');
      options.stop().then(resolve, reject);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
