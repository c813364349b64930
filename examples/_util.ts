/** Small helpers shared by the examples (private: not part of the library). */

/** Python's `time.sleep`, in milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Python's `random.randrange(a, b)`: an integer in [a, b). */
export function randrange(a: number, b: number): number {
  return a + Math.floor(Math.random() * (b - a));
}
