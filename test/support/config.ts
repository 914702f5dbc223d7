import { ConfigError, loadConfig } from '../../src/config.js';

/** The problems `loadConfig` reports for `env`, one per line of its message; none when it loads. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}
