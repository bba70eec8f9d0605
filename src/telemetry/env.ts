/** Building SDK parts without the variables they would read themselves. */

/**
 * Runs `build` with the variables `hide` names taken out of process.env, and puts them back: the
 * OpenTelemetry SDK's constructors read (and warn about) the raw variables even where they are
 * given the service's validated values, which then win; without them, only those values count.
 * Synchronous, so nothing else runs meanwhile.
 */
export function withoutVariables<T>(hide: (name: string) => boolean, build: () => T): T {
  const hidden = Object.entries(process.env).filter(([name]) => hide(name));
  for (const [name] of hidden) delete process.env[name];
  try {
    return build();
  } finally {
    for (const [name, value] of hidden) process.env[name] = value;
  }
}
