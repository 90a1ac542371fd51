// Restart intensity as OTP defines it: at most `max` restarts within a sliding window. Pure
// functions over the timestamps of past restarts; decide.ts says what exceeding it means.

/** The restarts of `stamps` still inside the window ending at `now`. */
export const inWindow = (stamps: ReadonlyArray<number>, now: number, windowMs: number): number[] =>
  stamps.filter((t) => now - t < windowMs)

/** Whether one more restart at `now` stays within the intensity (`max` undefined: no limit). */
export const hasRoom = (
  stamps: ReadonlyArray<number>,
  now: number,
  max: number | undefined,
  windowMs: number,
): boolean => max === undefined || inWindow(stamps, now, windowMs).length < max
