// The local admin token: with no security.api_tokens configured, the control API still needs a
// credential, so SAM keeps one in <state_dir>/token (mode 0600, readable by SAM's user only). The
// daemon makes it at start (a missing, short or world-readable one is replaced); the CLI
// (apiClient.ts) and `sam dashboard` read it. With configured tokens there is none.
import { randomBytes } from "node:crypto"
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MIN_API_TOKEN_LENGTH } from "../config/constants.ts"

/** The name the local token's caller has in the audit log and in 403 messages. */
export const LOCAL_TOKEN_NAME = "local"

export const localTokenFile = (stateDir: string): string => join(stateDir, "token")

export interface LocalToken {
  readonly token: string
  readonly file: string
  /** Why a new token was written (first start, or what was wrong with the old one); undefined when kept. */
  readonly renewed: string | undefined
}

/** The token in `<stateDir>/token`, or undefined when there is none (or it is unusable). */
export const readLocalToken = (stateDir: string): string | undefined => {
  try {
    const token = readFileSync(localTokenFile(stateDir), "utf8").trim()
    return token.length >= MIN_API_TOKEN_LENGTH ? token : undefined
  } catch {
    return undefined
  }
}

/** Why the existing token file cannot be kept, or undefined when it can. */
const unusable = (file: string): string | undefined => {
  let mode: number
  try {
    mode = statSync(file).mode
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "there was none" : String(error)
  }
  // Readable by others: it may have been read; a new one costs the CLI nothing.
  if ((mode & 0o077) !== 0) return `it was readable by other users (mode ${(mode & 0o777).toString(8)})`
  const token = readFileSync(file, "utf8").trim()
  if (token.length < MIN_API_TOKEN_LENGTH) return `it was shorter than ${MIN_API_TOKEN_LENGTH} characters`
  return undefined
}

/** Keep `<stateDir>/token` if it is sound, else write a new random one (256 bits, base64url). */
export const ensureLocalToken = (stateDir: string): LocalToken => {
  const file = localTokenFile(stateDir)
  const renewed = unusable(file)
  if (renewed === undefined) return { token: readFileSync(file, "utf8").trim(), file, renewed }
  const token = randomBytes(32).toString("base64url")
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: "w" })
  // The mode of a file that existed is not changed by writeFile: set it, then swap it in whole.
  chmodSync(temporary, 0o600)
  renameSync(temporary, file)
  return { token, file, renewed }
}

/** Remove a token file a SAM without configured tokens left (configured tokens replace it). */
export const removeLocalToken = (stateDir: string): void => rmSync(localTokenFile(stateDir), { force: true })
