// The files of one audit log, oldest first: the rotated ones (`audit.log.1`, `audit.log.2`, ...,
// renamed away when the current one passed security.audit.max_file_mb) and the current
// `audit.log`. The hash chain runs through all of them in this order.
import { existsSync, readdirSync } from "node:fs"
import { basename, dirname, join } from "node:path"

/** `audit.log.<n>`: the n-th rotated file of `file`. */
export const rotatedFile = (file: string, index: number): string => `${file}.${index}`

/** The rotation numbers present beside `file`, ascending. */
export const rotationIndexes = (file: string): number[] => {
  const name = basename(file)
  let entries: string[]
  try {
    entries = readdirSync(dirname(file))
  } catch {
    return []
  }
  return entries
    .filter((entry) => entry.startsWith(`${name}.`) && /^\d+$/.test(entry.slice(name.length + 1)))
    .map((entry) => Number(entry.slice(name.length + 1)))
    .sort((a, b) => a - b)
}

/** Every file of the log that exists, oldest first (the current file last). */
export const auditFiles = (file: string): string[] => [
  ...rotationIndexes(file).map((index) => rotatedFile(file, index)),
  ...(existsSync(file) ? [file] : []),
]

/** Where SAM keeps the runtime store beside an audit log in its state dir. */
export const stateDbBeside = (file: string): string => join(dirname(file), "state.db")
