/**
 * Assembles what a wave scheduler and the wave commands need (#16), once, for the composition
 * root and the tests alike: each member starts through the very trigger of `POST /migrate`
 * (same guards, same deps), with the run id the scheduler chose for it.
 */
import { randomUUID } from 'node:crypto';

import type { Repositories } from '../../db/repositories.js';
import { AppError } from '../../errors.js';
import { createTriggerDeps, type TriggerDepsInput } from '../run-deps.js';
import { type CancelDeps, cancelMigration, triggerMigration } from '../trigger-migration.js';
import type { WaveCommandDeps, WaveJobQueue } from './wave-commands.js';
import type { WaveObserver, WaveSchedulerDeps } from './wave-scheduler.js';

/** `cancelMigration` for a wave member: a CID with no run in progress has nothing to cancel. */
export function cancelRunOf(deps: CancelDeps): (cid: string) => Promise<void> {
  return async (cid) => {
    try {
      await cancelMigration(deps, cid);
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'NOT_FOUND')) throw e;
    }
  };
}

export interface WaveSchedulerDepsInput {
  repos: Pick<Repositories, 'waves' | 'runs' | 'locks' | 'featureFlags' | 'crmBudget'>;
  /** Everything the trigger needs except the run id (the scheduler chooses it). */
  trigger: Omit<TriggerDepsInput, 'newRunId' | 'repos'>;
  /** The shared budget's document key, when CRM_RATE_LIMIT_PER_S is set. */
  budgetKey: string | null;
  owner: string;
  config: WaveSchedulerDeps['config'];
  observer?: WaveObserver | undefined;
}

export function createWaveSchedulerDeps(input: WaveSchedulerDepsInput): WaveSchedulerDeps {
  const { repos } = input;
  return {
    waves: repos.waves,
    runs: repos.runs,
    budget: input.budgetKey === null ? null : { repo: repos.crmBudget, key: input.budgetKey },
    trigger: (req, runId) =>
      triggerMigration(createTriggerDeps({ ...input.trigger, repos, newRunId: () => runId }), req),
    cancelRun: cancelRunOf({ runs: repos.runs, locks: repos.locks, now: input.trigger.now }),
    newRunId: randomUUID,
    logger: input.trigger.logger,
    now: input.trigger.now,
    owner: input.owner,
    config: input.config,
    observer: input.observer,
  };
}

export function createWaveCommandDeps(input: {
  repos: Pick<Repositories, 'waves' | 'runs' | 'locks'>;
  jobs: WaveJobQueue;
  logger: WaveCommandDeps['logger'];
  now: () => Date;
}): WaveCommandDeps {
  return {
    waves: input.repos.waves,
    jobs: input.jobs,
    cancelRun: cancelRunOf({ runs: input.repos.runs, locks: input.repos.locks, now: input.now }),
    logger: input.logger,
    now: input.now,
  };
}
