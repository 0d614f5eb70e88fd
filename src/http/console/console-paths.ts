/** The console's URLs (#17), in one place so pages, routes and the OpenAPI document agree. */

export const CONSOLE_PATH = '/private/console';
export const CONSOLE_RUN_PATH = '/private/console/runs/:run_id';
export const CONSOLE_WAVES_PATH = '/private/console/waves';
export const CONSOLE_WAVE_PATH = '/private/console/waves/:wave_id';
export const CONSOLE_ASSETS_PATH = '/private/console/assets';

/** The run page of a run (its id percent-encoded). */
export function runPageHref(runId: string): `/private/${string}` {
  return `/private/console/runs/${encodeURIComponent(runId)}`;
}

/** The waves page of a wave. */
export function wavePageHref(waveId: string): `/private/${string}` {
  return `/private/console/waves/${encodeURIComponent(waveId)}`;
}
