// The line `sam start` prints for each unit that is not ready when its start-up is over, and what
// `sam start -d` reads back from it: a unit that failed to start (backoff, crashed, error) makes
// the detached start exit 1, as \`docker compose up -d\` does for a container that did not start.
// One module for both sides, so the words and the reading cannot drift apart.

/** A lifecycle state as a sentence says it: "is in backoff", "is crashed", "is running". */
export const stateInWords = (state: string): string => (state === "backoff" ? "in backoff" : state)

/** `sam:   web is in backoff: exited with code 1; restart in 0.6s` */
export const notReadyLine = (id: string, state: string, reason: string): string =>
  `sam:   ${id} is ${stateInWords(state)}: ${reason}`

const failedLine = /^sam: {3}(\S+) is (?:in backoff|crashed|error)(?:\.\w+)?: /

/** The unit a start-up line says failed to start, if it says so. */
export const failedUnitOf = (line: string): string | undefined => failedLine.exec(line)?.[1]
