// The environment markers every process SAM starts carries (SAM_OWNER=<samId>, SAM_CELL=<cellId>),
// inherited by every descendant that does not scrub its environment. Process-group mode finds a
// cell's escaped members by them; every mode's sweep after SAM's death finds leftovers by them.
import { isAlive, listPids, readEnviron } from "../os/proc.ts"

export const ownerVariable = "SAM_OWNER"
export const cellVariable = "SAM_CELL"

export const markersFor = (samId: string, cellId: string): Readonly<Record<string, string>> => ({
  [ownerVariable]: samId,
  [cellVariable]: cellId,
})

/**
 * Live processes marked as SAM `samId`'s (and as cell `cellId`'s, when given). Reads the
 * environment of every process: a few milliseconds per call on a host with a few hundred.
 * Without root, only processes of SAM's own user are readable, which is where its children are.
 */
export const markedProcesses = (samId: string, cellId?: string): number[] => {
  const found: number[] = []
  for (const pid of listPids()) {
    if (pid === process.pid) continue
    const environment = readEnviron(pid)
    if (environment?.get(ownerVariable) !== samId) continue
    if (cellId !== undefined && environment.get(cellVariable) !== cellId) continue
    if (isAlive(pid)) found.push(pid)
  }
  return found
}
