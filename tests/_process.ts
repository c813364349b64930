/** What the Process tests share. */

export const FIXTURES = new URL("./fixtures/", import.meta.url);

/** Bound of every wait that must end: never reached by a passing test, it turns a hang into a failure. */
export const LONG = 20_000;
